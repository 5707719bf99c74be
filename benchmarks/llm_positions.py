"""LLM input positions per second of audio: TextPro-SLM (global, interleave 5:1) against the continuous adapter.

    .venv/bin/python benchmarks/llm_positions.py --features runs/mini/features/train \
        --encoder-features runs/reproduce/features/encoder [--out benchmarks/results/llm_positions.json]

Counts what each input side puts into the LLM for the same clips (placeholders + transcript tokens, or one
placeholder per 25 Hz encoder frame; the chat template is not counted), with the SmolLM2 tokenizer, over every
record of the two feature caches (`textpro featurize`, and `textpro featurize --encoder-only` of the same manifest).
The ratio is the adapter's positions over each system's: how many times fewer positions the LLM reads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", required=True, help="WhisperPro feature cache (textpro featurize)")
    parser.add_argument("--encoder-features", required=True, help="encoder-only cache of the same clips")
    parser.add_argument("--llm", default="smollm2-135m-instruct", help="whose tokenizer counts the transcript")
    parser.add_argument("--out", default="benchmarks/results/llm_positions.json")
    args = parser.parse_args()

    from transformers import AutoTokenizer

    from textpro.hub import resolve_model
    from textpro.slm import positions_per_second
    from textpro.slm.config import TextProSLMConfig
    from textpro.slm.featurize import FeatureStore
    from textpro.slm.inputs import InputBuilder
    from textpro.slm.model import REUSABLE_PLACEHOLDERS

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(args.llm))
    placeholder = next(t for t in REUSABLE_PLACEHOLDERS if t in tokenizer.get_vocab())  # SmolLM2: <repo_name>
    whisperpro, encoder = FeatureStore(args.features), FeatureStore(args.encoder_features)
    systems = {"TextPro-SLM (global)": (TextProSLMConfig(placeholder_token=placeholder), whisperpro),
               "TextPro-SLM (interleave 5:1)": (TextProSLMConfig(placeholder_token=placeholder,
                                                                 injection="interleave"), whisperpro),
               "continuous adapter (25 Hz)": (TextProSLMConfig(placeholder_token=placeholder,
                                                               audio_input="encoder_baseline",
                                                               d_whisper=encoder.d_whisper), encoder)}
    rates = {name: positions_per_second(InputBuilder(tokenizer, config), [store[i] for i in range(len(store))])
             for name, (config, store) in systems.items()}
    adapter = rates["continuous adapter (25 Hz)"]
    print(f"{len(whisperpro)} clips, {sum(r['duration'] for r in whisperpro.index):.0f} s of audio\n")
    print("| input side | LLM positions per second of audio | adapter / this |\n|---|---:|---:|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:.2f} | {adapter / rate:.2f}× |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"clips": len(whisperpro), "positions_per_second": rates}, indent=2) + "\n")


if __name__ == "__main__":
    main()
