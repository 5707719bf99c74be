"""Word error rate of a Whisper / WhisperPro model on a benchmark split (the spoken text is the reference).

Both sides go through Whisper's English text normaliser (lowercase, punctuation out, "fifteen" → "15"), so a
model that writes numbers as digits is not charged for the benchmark's numbers in words.

    python -m textpro.recipe.wer whisper-tiny.en whisper-base --bench runs/mini/data --split dev --limit 80
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from textpro.errors import ConfigError


@dataclass
class WERResult:
    model: str
    split: str
    n: int  # utterances
    words: int  # reference words (after normalisation)
    wer: float  # percent
    seconds: float  # wall-clock transcription time
    audio_seconds: float
    by_task: dict  # task → WER percent
    utterances: list  # [audio, task, reference, hypothesis] (normalised), for reading the errors

    def to_dict(self) -> dict:
        return asdict(self)


def read_references(bench_dir, split: str, limit: int | None = None) -> list[tuple[Path, str, str]]:
    """(audio path, spoken text, task) of the split's records, in file order; `limit` keeps that many, evenly spaced
    over the file (so every task is represented, not only the first one)."""
    path = Path(bench_dir) / f"{split}.jsonl"
    if not path.is_file():
        raise ConfigError(f"no benchmark split {path}")
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            pairs.append((path.parent / record["audio"], record["text"], str(record.get("task", ""))))
    if limit and limit < len(pairs):
        pairs = [pairs[i * len(pairs) // limit] for i in range(limit)]
    return pairs


def word_error_rate(model: str, bench_dir, split: str = "dev", limit: int | None = None,
                    batch_size: int = 8, progress: bool = True) -> WERResult:
    import jiwer
    from tqdm.auto import tqdm
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    from textpro.audio import SAMPLE_RATE, load_audio
    from textpro.whisperpro import Transcriber

    pairs = read_references(bench_dir, split, limit)
    transcriber = Transcriber.from_pretrained(model)
    normalise = EnglishTextNormalizer({})  # no British→American spelling table: the converted models lack it
    utterances, audio_seconds = [], 0.0
    started = time.perf_counter()
    for start in tqdm(range(0, len(pairs), batch_size), desc=f"wer {Path(str(model)).name}", disable=not progress):
        batch = pairs[start:start + batch_size]
        clips = [load_audio(path) for path, _, _ in batch]
        audio_seconds += sum(len(c) for c in clips) / SAMPLE_RATE
        for (path, reference, task), tokens in zip(batch, transcriber.transcribe(clips), strict=True):
            utterances.append([Path(path).name, task, normalise(reference), normalise(tokens.text)])
    seconds = time.perf_counter() - started
    kept = [u for u in utterances if u[2].strip()]

    def wer_of(rows) -> float:
        return round(100.0 * jiwer.wer([u[2] for u in rows], [u[3] for u in rows]), 2)

    by_task = {task: wer_of([u for u in kept if u[1] == task]) for task in sorted({u[1] for u in kept})}
    words = sum(len(u[2].split()) for u in kept)
    return WERResult(str(model), split, len(kept), words, wer_of(kept), round(seconds, 1), round(audio_seconds, 1),
                     by_task, kept)


def main(argv=None) -> int:
    """python -m textpro.recipe.wer MODEL [MODEL ...] --bench DIR --split dev [--limit N] [--out FILE.json]"""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m textpro.recipe.wer", description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="Whisper / WhisperPro names or directories")
    parser.add_argument("--bench", required=True)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--limit", type=int, default=None, help="evenly spaced subset of this many utterances")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    results = []
    for model in args.models:
        result = word_error_rate(model, args.bench, args.split, args.limit)
        print(json.dumps({k: v for k, v in result.to_dict().items() if k != "utterances"}), flush=True)
        results.append(result.to_dict())
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
