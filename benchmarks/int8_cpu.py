"""int8 against fp32 on CPU (`textpro serve --int8`): latency, identical answers, WER and prosody-vector cosine.

    .venv/bin/python benchmarks/int8_cpu.py --bench runs/mini/data --split test_unseen --limit 300 \
        [--model DIR] [--max-new-tokens 64] [--threads 2] [--out benchmarks/results/int8_cpu.json]

Two copies of the same TextPro (default: the embedded default model; --model a TextPro-SLM checkpoint), one left in
fp32, one quantized by `textpro.int8.quantize_int8` (what `textpro serve --int8` does). On N evenly spaced
items of a benchmark split, each copy answers each item alone (WhisperPro, then greedy generation with the item's
prompt, batch of one), the two in alternating order per item so that machine-load drift hits both alike.

Reported:
  latency            median and mean seconds per item (transcribe + answer), fp32 and int8, and their ratio
  identical answers  share of items whose int8 answer equals the fp32 answer character for character
  WER                of each copy's transcript against the item's spoken text (Whisper's English normaliser)
  prosody cosine     cosine of the utterance prosody vectors (mean over items, and the minimum), and of the
                     per-token vectors on items whose two transcripts have the same tokens
The int8 default criterion (>= 300 items): identical >= 97 %, |WER change| <= 0.5 points, mean cosine >= 0.99.
Transcription alone is timed too (WhisperPro fp32 and int8), and faster-whisper int8 on the same clips when
`faster_whisper` is importable (`make bench`): its latency and WER, on the CTranslate2 file of the base Whisper
(tiny.en) that textpro's WhisperPro starts from (it has no LLM and no prosody vectors).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np


def read_items(bench: Path, split: str, limit: int | None) -> list[dict]:
    path = bench / f"{split}.jsonl"
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for item in items:
        item["audio_path"] = str(path.parent / item["audio"])
    if limit and limit < len(items):
        items = [items[i * len(items) // limit] for i in range(limit)]  # evenly spaced, as recipe/wer.py
    return items


def load(model: str | None):
    from textpro.pipeline import DEFAULT_MODEL_DIR, TextPro

    return TextPro.from_pretrained(Path(model) if model else DEFAULT_MODEL_DIR)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def answer(pro, samples, prompt, max_new_tokens: int):
    """(transcript, answer, seconds in all, seconds of them transcribing)."""
    started = time.perf_counter()
    heard = pro.transcriber.transcribe(samples)
    transcribed = time.perf_counter()
    text = pro.slm.generate([(heard, prompt)], max_new_tokens=max_new_tokens)[0]
    return heard, text, time.perf_counter() - started, transcribed - started


def faster_whisper_int8(threads: int, model: str = "whisper-tiny.en"):
    """faster-whisper (CTranslate2) int8 on the CTranslate2 file `model`'s weights are converted from (the base
    model: textpro's WhisperPro may be fine-tuned from it), as transcribe(samples) -> (text, seconds); None when
    faster_whisper is not importable (`make bench` installs it)."""
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        return None
    from textpro.hub import BASE_MODELS, _package_dir

    base = BASE_MODELS[model]
    whisper = WhisperModel(str(_package_dir(base.packages[0]) / base.files[0]), device="cpu", compute_type="int8",
                           cpu_threads=threads)

    def transcribe(samples) -> tuple[str, float]:
        started = time.perf_counter()
        segments, _ = whisper.transcribe(samples, language="en", beam_size=1, without_timestamps=True,
                                         condition_on_previous_text=False, vad_filter=False)
        text = " ".join(s.text.strip() for s in segments)  # the generator decodes as it is read
        return text, time.perf_counter() - started

    return transcribe


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", required=True, help="benchmark directory (`textpro data` output)")
    parser.add_argument("--split", default="test_unseen")
    parser.add_argument("--limit", type=int, default=300, help="evenly spaced items (default 300)")
    parser.add_argument("--model", default=None, help="TextPro-SLM checkpoint (default: the embedded default)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--parts", default="all",
                        help="what is quantized: all (default, as `serve --int8`) or some of whisperpro,llm,lm_head")
    parser.add_argument("--out", default=None, help="JSON with the figures and every item's answers")
    args = parser.parse_args(argv)

    import jiwer
    import torch
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    from textpro.audio import load_audio
    from textpro.console import quiet_libraries
    from textpro.int8 import int8_parts, quantize_int8

    quiet_libraries()
    if args.threads:
        torch.set_num_threads(args.threads)
    items = read_items(Path(args.bench), args.split, args.limit)
    fp32, int8 = load(args.model), load(args.model)
    counts = quantize_int8(int8, int8_parts(args.parts))
    systems = {"fp32": fp32, "int8": int8}
    faster = faster_whisper_int8(torch.get_num_threads())
    normalise = EnglishTextNormalizer({})
    rows = []
    warm = load_audio(items[0]["audio_path"])
    for pro in systems.values():  # first calls pay one-off costs (kernels, caches): not measured
        answer(pro, warm, items[0].get("prompt"), 4)
    if faster is not None:
        faster(warm)
    for n, item in enumerate(items):
        samples = load_audio(item["audio_path"])
        order = list(systems) if n % 2 == 0 else list(systems)[::-1]
        out = {}
        for name in order:
            out[name] = answer(systems[name], samples, item.get("prompt"), args.max_new_tokens)
        (h32, a32, s32, t32), (h8, a8, s8, t8) = out["fp32"], out["int8"]
        same_tokens = list(h32.token_ids) == list(h8.token_ids)
        if faster is not None:  # transcription only: it has no LLM
            text, seconds = faster(samples)
            fw = {"transcript": text, "seconds": round(seconds, 3)}
        rows.append({
            "id": item["id"], "reference": normalise(item["text"]),
            "fp32": {"transcript": h32.text, "answer": a32, "seconds": round(s32, 3),
                     "transcribe_seconds": round(t32, 3)},
            "int8": {"transcript": h8.text, "answer": a8, "seconds": round(s8, 3), "transcribe_seconds": round(t8, 3)},
            **({"faster_whisper_int8": fw} if faster is not None else {}),
            "identical": a32 == a8, "same_transcript": same_tokens,
            "utterance_cosine": cosine(h32.utterance, h8.utterance),
            "token_cosine": (float(np.mean([cosine(p, q) for p, q in zip(h32.prosody, h8.prosody, strict=True)]))
                             if same_tokens and len(h32.prosody) else None),
        })
        print(f"{n + 1}/{len(items)} fp32 {s32:.2f}s int8 {s8:.2f}s identical={a32 == a8} "
              f"cos={rows[-1]['utterance_cosine']:.4f}", flush=True)

    def wer(name: str) -> float:
        kept = [r for r in rows if r["reference"].strip()]
        return round(100 * jiwer.wer([r["reference"] for r in kept],
                                     [normalise(r[name]["transcript"]) for r in kept]), 2)

    def transcription_latency(rows: list[dict], wer) -> dict:
        """Median transcription seconds of WhisperPro fp32 and int8 (their Transcriber.transcribe) and of
        faster-whisper int8 with its WER, or a note that faster-whisper was not measured."""
        figures = {f"{name}_transcribe_median_s": round(statistics.median(r[name]["transcribe_seconds"]
                                                                          for r in rows), 3)
                   for name in ("fp32", "int8")}
        if faster is None:
            return {**figures, "faster_whisper_int8": "not installed: no comparison (make bench)"}
        return {**figures, "faster_whisper_int8_median_s": round(statistics.median(r["faster_whisper_int8"]["seconds"]
                                                                        for r in rows), 3),
                "wer_faster_whisper_int8": wer("faster_whisper_int8")}

    token_cos = [r["token_cosine"] for r in rows if r["token_cosine"] is not None]
    summary = {
        "items": len(rows), "split": args.split, "model": args.model or "embedded default",
        "max_new_tokens": args.max_new_tokens, "threads": torch.get_num_threads(), "parts": args.parts,
        "quantized_layers": counts,
        "fp32_median_s": round(statistics.median(r["fp32"]["seconds"] for r in rows), 3),
        "int8_median_s": round(statistics.median(r["int8"]["seconds"] for r in rows), 3),
        "fp32_mean_s": round(statistics.mean(r["fp32"]["seconds"] for r in rows), 3),
        "int8_mean_s": round(statistics.mean(r["int8"]["seconds"] for r in rows), 3),
        "identical_answers": round(sum(r["identical"] for r in rows) / len(rows), 4),
        "same_transcript": round(sum(r["same_transcript"] for r in rows) / len(rows), 4),
        "wer_fp32": wer("fp32"), "wer_int8": wer("int8"),
        "utterance_cosine_mean": round(float(np.mean([r["utterance_cosine"] for r in rows])), 4),
        "utterance_cosine_min": round(float(np.min([r["utterance_cosine"] for r in rows])), 4),
        "token_cosine_mean": round(float(np.mean(token_cos)), 4) if token_cos else None,
    }
    summary["speedup_median"] = round(summary["fp32_median_s"] / summary["int8_median_s"], 2)
    summary["wer_change"] = round(summary["wer_int8"] - summary["wer_fp32"], 2)
    summary["meets_default_criterion"] = (len(rows) >= 300 and summary["identical_answers"] >= 0.97
                                          and abs(summary["wer_change"]) <= 0.5
                                          and summary["utterance_cosine_mean"] >= 0.99)
    summary.update(transcription_latency(rows, wer))
    print(json.dumps(summary, indent=1))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"summary": summary, "items": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
