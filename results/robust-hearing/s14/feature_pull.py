"""Session 14 diagnostic: which part of a recorded clip's prosody pulls the gender answer?

For each clip id of the recorded set (runs/s13/recorded-62.jsonl, built by benchmarks/recorded_gender.py), prints
the first answer token's log-odds female − male for the recorded set's three questions (direct, "Is the person
speaking female?", "Is this voice male?"): as heard, with the learned WhisperPro vector at its training mean, and with
each measured acoustic feature alone at its training mean. Positive: female.

    PYTHONPATH=src python results/robust-hearing/s14/feature_pull.py MODEL ID[,ID...] [MANIFEST]
"""

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
from gender_boundary import label_token_ids  # noqa: E402
from recorded_gender import QUESTIONS, read_16k  # noqa: E402

from textpro.acoustics import ACOUSTIC_FEATURES  # noqa: E402
from textpro.pipeline import TextPro  # noqa: E402

DATA = Path("/tmp/recorded")


def log_odds(slm, speech, ids) -> list[float]:
    out = []
    for _, question, _ in QUESTIONS:
        batch = slm.builder.build_generation_batch([(speech, question)])
        with torch.no_grad():
            embeds = slm.embed(batch["input_ids"], batch["prosody_vectors"], batch["prosody_mask"])
            logp = slm.llm(inputs_embeds=embeds, attention_mask=batch["attention_mask"]).logits[:, -1].log_softmax(-1)
        out.append(float(logp[0, ids["female"]].logsumexp(-1) - logp[0, ids["male"]].logsumexp(-1)))
    return out


def main() -> None:
    model, clip_ids = sys.argv[1], sys.argv[2].split(",")
    manifest = Path(sys.argv[3] if len(sys.argv) > 3 else "runs/s13/recorded-62.jsonl")
    torch.set_num_threads(1)
    pipeline = TextPro.from_pretrained(model)
    slm = pipeline.slm
    ids = {label: label_token_ids(slm.builder.tokenizer, label) for label in ("male", "female")}
    mean = slm.projector.neutral_input().detach().cpu().numpy()[slm.projector.d_whisper:]  # the acoustics' means
    clips = {c["id"]: c for c in map(json.loads, manifest.read_text().splitlines())}
    for clip_id in clip_ids:
        clip = clips[clip_id]
        heard = pipeline.listen(read_16k(DATA / clip["audio"]))
        print(f"{clip_id} ({clip['gender']}): acoustics {np.round(heard.acoustics, 2)}, "
              f"training mean {np.round(mean, 2)}")
        variants = {"heard": heard, "learned at mean": slm.neutral_speech(heard, "learned")}
        for k, name in enumerate(ACOUSTIC_FEATURES):
            acoustics = heard.acoustics.copy()
            acoustics[k] = mean[k]
            variants[f"{name} at mean"] = dataclasses.replace(heard, acoustics=acoustics)
        for name, speech in variants.items():
            print(f"  {name:<22}" + " ".join(f"{gap:+6.2f}" for gap in log_odds(slm, speech, ids)))


if __name__ == "__main__":
    main()
