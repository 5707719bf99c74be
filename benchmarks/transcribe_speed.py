"""Transcription time per clip on the same weights, in one process, as ratios to HF Whisper `generate`.

    .venv/bin/python benchmarks/transcribe_speed.py [--model whisper-tiny.en] [--repeats 5] [--threads 2]
        [--clock wall|cpu]

Systems (all greedy, English, no timestamps unless said):
  hf_generate        HF WhisperForConditionalGeneration.generate, features padded to 30 s (Whisper as is)
  wp_30s             WhisperPro greedy decoding with prosody capture, features padded to 30 s
  wp_plain           WhisperPro greedy decoding on the clip's own frames, prosody capture off
  wp_prosody         the same with prosody capture on (what the LLM side needs)
  wp_transcribe      Transcriber.transcribe: prosody + token/word times (one extra aligned pass) → SpeechTokens
  faster_whisper     faster-whisper (CTranslate2) on the CTranslate2 file the weights were converted from

Clips are piper sentences of about 3, 5 and 8 s. Each repeat runs every system once on every clip, systems in a
rotating order so that machine load drifts hit all of them alike; the figure is the median over repeats.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

# numpy, torch, jiwer and textpro are imported where used: `--help` answers without loading them.

SENTENCES = {  # piper speaks ~17 characters a second
    "3s": ["Please close the door when you leave the room this evening.",
           "It has been raining all day, so the garden is very wet.",
           "Where did you park the car after the meeting last night?"],
    "5s": ["The museum opens at nine in the morning on weekdays, and at ten on weekends and holidays.",
           "She bought three apples and a loaf of bread at the market before she took the bus home.",
           "Could you tell me how far it is to the train station, and whether I can walk there?"],
    "8s": ["After the meeting, we walked along the river and talked about the plans for next summer, "
           "when the whole family will travel to the mountains for two weeks.",
           "The library will be closed on Monday because the heating system is being repaired, but it "
           "will open again on Tuesday morning at the usual time.",
           "If you want to catch the early train, you should leave the house before half past six, because "
           "the buses are often late and the roads are busy at that hour."],
}


def normalize(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


def make_clips() -> dict[str, list]:
    from textpro.audio import load_audio
    from textpro.data.synth import synthesize_piper

    clips = {}
    for group, texts in SENTENCES.items():
        clips[group] = [load_audio(*synthesize_piper(text)) for text in texts]
    return clips


def build_systems(model_name: str):
    import torch
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    from textpro.audio import SAMPLE_RATE
    from textpro.hub import BASE_MODELS, _package_dir, resolve_model
    from textpro.whisperpro import Transcriber
    from textpro.whisperpro.transcribe import MAX_TOKENS_PER_SECOND

    path = resolve_model(model_name)
    hf = WhisperForConditionalGeneration.from_pretrained(path).eval()
    processor = WhisperProcessor.from_pretrained(path)
    extractor = processor.feature_extractor
    transcriber = Transcriber.from_pretrained(path)
    transcriber_30s = Transcriber.from_pretrained(path, full_window=True)
    language = {} if not hf.generation_config.is_multilingual else {"language": "en", "task": "transcribe"}

    def hf_generate(clip):
        features = extractor(clip, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        ids = hf.generate(features, **language)
        return processor.tokenizer.decode(ids[0], skip_special_tokens=True).strip()

    def greedy(t, capture):
        def run(clip):
            features, mask = t._features([clip], t.full_window)
            prefixes = t._prefixes(features, mask)
            budget = min(t.max_new_tokens, int(MAX_TOKENS_PER_SECOND * len(clip) / SAMPLE_RATE) + 16)
            out = t.model.greedy_decode(features, mask, prefixes, t.eot, budget, t.suppress_tokens,
                                        t.begin_suppress_tokens, capture_prosody=capture)
            return t.tokenizer.decode(out.tokens[0], skip_special_tokens=True).strip()
        return run

    def wp_transcribe(clip):
        return transcriber.transcribe(clip).text

    systems = {
        "hf_generate": hf_generate,
        "wp_30s": greedy(transcriber_30s, True),
        "wp_plain": greedy(transcriber, False),
        "wp_prosody": greedy(transcriber, True),
        "wp_transcribe": wp_transcribe,
    }
    base = BASE_MODELS.get(model_name)
    if base is not None and base.format == "ct2-whisper" and len(base.packages) == 1:
        from faster_whisper import WhisperModel

        ct2_dir = _package_dir(base.packages[0]) / base.files[0]
        fw = WhisperModel(str(ct2_dir), device="cpu", compute_type="float32", cpu_threads=torch.get_num_threads())

        def faster_whisper(clip):
            segments, _ = fw.transcribe(clip, language="en", beam_size=1, without_timestamps=True,
                                        condition_on_previous_text=False, vad_filter=False)
            return " ".join(s.text.strip() for s in segments)

        systems["faster_whisper"] = faster_whisper
    return systems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="whisper-tiny.en")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall-clock seconds, or this process's CPU seconds (robust to other load)")
    parser.add_argument("--out", default="benchmarks/results/transcribe_speed.json")
    args = parser.parse_args()
    try:
        import faster_whisper  # noqa: F401  (one of the systems measured)
    except ImportError:
        raise SystemExit("transcribe_speed.py needs faster-whisper, which `make install` does not install: run "
                         "`make bench` (= pip install -e '.[test,bench]')") from None
    import jiwer
    import numpy as np
    import torch

    from textpro.audio import SAMPLE_RATE

    torch.set_num_threads(args.threads)

    clips = make_clips()
    systems = build_systems(args.model)
    names = list(systems)
    for name in names:  # warm-up: first calls pay one-off costs (allocations, lazy imports)
        systems[name](clips["5s"][0])

    times: dict[str, dict[str, list[float]]] = {n: {g: [] for g in clips} for n in names}
    cpu_times: dict[str, dict[str, list[float]]] = {n: {g: [] for g in clips} for n in names}
    texts: dict[str, dict[str, str]] = {n: {} for n in names}
    with torch.inference_mode():
        for repeat in range(args.repeats):
            order = names[repeat % len(names):] + names[:repeat % len(names)]
            for group, group_clips in clips.items():
                for index, clip in enumerate(group_clips):
                    for name in order:
                        start, start_cpu = time.perf_counter(), time.process_time()
                        texts[name][f"{group}/{index}"] = systems[name](clip)
                        times[name][group].append(time.perf_counter() - start)
                        cpu_times[name][group].append(time.process_time() - start_cpu)
            print(f"repeat {repeat + 1}/{args.repeats} done", flush=True)

    # per system and clip length: median seconds per clip (over repeats x clips)
    # On a shared machine wall time includes waiting for the cores; process CPU time counts only our own work,
    # so --clock cpu gives ratios that survive other load (with 1 thread they equal wall time on a quiet machine).
    chosen = cpu_times if args.clock == "cpu" else times
    medians = {n: {g: statistics.median(v) for g, v in by_group.items()} for n, by_group in chosen.items()}
    agree = {n: sum(texts[n][k] == texts["hf_generate"][k] for k in texts[n]) for n in names}
    references = {f"{g}/{i}": text for g, group in SENTENCES.items() for i, text in enumerate(group)}
    keys = sorted(references)
    wer = {n: jiwer.wer([normalize(references[k]) for k in keys], [normalize(texts[n][k]) for k in keys])
           for n in names}
    durations = {g: float(np.mean([len(c) / SAMPLE_RATE for c in cs])) for g, cs in clips.items()}
    report = {"model": args.model, "threads": args.threads, "clock": args.clock, "repeats": args.repeats,
              "durations": durations,
              "median_seconds": medians, "same_text_as_hf": agree, "wer": wer,
              "clips": sum(len(c) for c in clips.values()),
              "texts": texts}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))

    groups = list(clips)
    header = "| system | " + " | ".join(f"{g} ({durations[g]:.1f} s) ms" for g in groups) + \
             " | " + " | ".join(f"speed-up vs HF, {g}" for g in groups) + " | same text as HF | WER |"
    print(header)
    print("|" + "---|" * (1 + 2 * len(groups) + 2))
    for name in names:
        ms = " | ".join(f"{1000 * medians[name][g]:.0f}" for g in groups)
        ratio = " | ".join(f"{medians['hf_generate'][g] / medians[name][g]:.2f}×" for g in groups)
        same = f"{agree[name]}/{report['clips']}"
        print(f"| {name} | {ms} | {ratio} | {same} | {100 * wer[name]:.1f}% |")
    overhead = {g: medians["wp_prosody"][g] / medians["wp_plain"][g] - 1 for g in groups}
    print("prosody capture overhead: " + ", ".join(f"{g} {100 * v:+.1f}%" for g, v in overhead.items()))


if __name__ == "__main__":
    main()
