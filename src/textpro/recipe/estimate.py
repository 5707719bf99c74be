"""What the paper recipe will cost, before it runs: the data sizes and a GPU-hour estimate per step.

Compute is counted, not timed (a CPU's speed says nothing about a GPU's): a training step costs 6·N FLOPs per token
it trains on (forward 2·N, backward 4·N), a forward-only step (featurize, the teacher's answers) 2·N, and a GPU
delivers `mfu` × its dense peak. Whisper's encoder always reads 1500 positions (every clip is padded to 30 s), its
decoder the transcript's tokens; the LLM reads the prompt (chat template, instruction, one prosody vector), the
transcript and the target (teacher answer or label).

    GPU-hours = FLOPs / (gpu_tflops · 10¹² · mfu) / 3600

Data sizes come from the manifests once the import step has written them (clips counted, hours from audio headers
of an evenly spaced sample, transcript words counted) and from the config's stated sizes (the paper's) until then.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from textpro.recipe.config import EstimateSettings, ImportSpec


@dataclass
class CorpusSize:
    name: str
    kind: str
    clips: int
    hours: float
    transcript_tokens: float  # of all its clips
    answer_tokens: float  # the SLM's targets over all its clips
    source: str  # "manifest" (measured) or "stated" (the config's numbers)


@dataclass
class StepCost:
    step: str
    counts: str  # what the estimate counts, in words
    tokens: float  # tokens processed (all epochs)
    flops: float
    gpu_hours: float


def measure_manifest(path: Path, sample: int) -> tuple[int, float | None, int | None]:
    """(clips, seconds of audio, transcript words) of a manifest. Seconds: audio headers of up to `sample` evenly
    spaced clips, scaled to all (None when no header could be read); words: None when no record has text."""
    import soundfile as sf

    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not records:
        return 0, 0.0, 0
    n = min(len(records), max(1, sample))
    durations = []
    for record in (records[i * len(records) // n] for i in range(n)):
        try:
            durations.append(sf.info(str(path.parent / record["audio"])).duration)
        except (RuntimeError, OSError, KeyError):  # an unreadable header: the clip is left out of the sample
            continue
    seconds = sum(durations) / len(durations) * len(records) if durations else None
    texts = [r.get("text") for r in records if r.get("text")]
    words = sum(len(t.split()) for t in texts) if texts else None
    return len(records), seconds, words


def corpus_size(spec: ImportSpec, manifest: Path, settings: EstimateSettings) -> CorpusSize:
    """The corpus's size, measured from `manifest` when it exists, else from the spec's stated hours / clips."""
    words_per_hour = settings.words_per_second * 3600
    if manifest.is_file():
        clips, seconds, words = measure_manifest(manifest, settings.sample_clips)
        hours = (seconds if seconds is not None else clips * settings.mean_clip_seconds) / 3600
        words = words if words is not None else hours * words_per_hour
        source = "manifest"
    else:
        hours = spec.hours or 0.0
        clips = spec.clips if spec.clips is not None else round(hours * 3600 / settings.mean_clip_seconds)
        words = hours * words_per_hour
        source = "stated" if spec.hours or spec.clips else "unknown"
    return CorpusSize(spec.name, spec.kind, clips, hours, words * settings.tokens_per_word,
                      clips * spec.answer_tokens, source)


def model_params(directory: str, settings: EstimateSettings, whisper: bool) -> tuple[float, ...] | None:
    """Parameters counted from an HF directory's config.json (on the meta device: no weights read): (encoder,
    decoder) for a Whisper, (total,) for an LLM. None when the directory has no config.json."""
    if not directory or not (Path(directory) / "config.json").is_file():
        return None
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSpeechSeq2Seq

    config = AutoConfig.from_pretrained(directory)
    with torch.device("meta"):
        model = (AutoModelForSpeechSeq2Seq if whisper else AutoModelForCausalLM).from_config(config)
    named = list(model.named_parameters())  # tied weights appear once
    if not whisper:
        return (float(sum(p.numel() for _, p in named)),)
    return tuple(float(sum(p.numel() for n, p in named if f".{part}." in f".{n}")) for part in ("encoder", "decoder"))


def gpu_hours(flops: float, settings: EstimateSettings) -> float:
    return flops / (settings.gpu_tflops * 1e12 * settings.mfu) / 3600


def examples_seen(clips: int, stage_config: dict) -> float:
    """Examples a training run goes through: max_steps × global batch when max_steps is set, else epochs × clips."""
    train = stage_config.get("train") or {}
    if train.get("max_steps"):
        return float(train["max_steps"]) * float(train.get("batch_size", 1))
    return float(train.get("epochs", 1)) * clips


def whisper_cost(step: str, corpora: list[CorpusSize], params: tuple[float, float], settings: EstimateSettings,
                 factor: int, stage_config: dict | None = None) -> StepCost:
    """A Whisper pass over `corpora`: factor·(N_enc·1500 per clip + N_dec·(transcript + 4 special tokens))."""
    clips = sum(c.clips for c in corpora)
    decoder_tokens = sum(c.transcript_tokens for c in corpora) + 4 * clips
    scale = examples_seen(clips, stage_config) / clips if stage_config and clips else 1.0
    encoder_tokens = settings.encoder_frames * clips * scale
    decoder_tokens *= scale
    flops = factor * (params[0] * encoder_tokens + params[1] * decoder_tokens)
    counts = (f"{factor}·N·tokens: N_enc {params[0] / 1e9:.2f}B × {settings.encoder_frames} frames/clip + "
              f"N_dec {params[1] / 1e9:.2f}B × transcript tokens" + (f", × {scale:g} passes" if scale != 1 else ""))
    return StepCost(step, counts, encoder_tokens + decoder_tokens, flops, gpu_hours(flops, settings))


def llm_cost(step: str, corpora: list[CorpusSize], params: float, settings: EstimateSettings, factor: int,
             stage_config: dict | None = None, what: str = "prompt + transcript + target") -> StepCost:
    """An LLM pass over `corpora`: factor·N·(prompt + transcript + target tokens) per example."""
    clips = sum(c.clips for c in corpora)
    tokens = settings.prompt_tokens * clips + sum(c.transcript_tokens + c.answer_tokens for c in corpora)
    scale = examples_seen(clips, stage_config) / clips if stage_config and clips else 1.0
    tokens *= scale
    flops = factor * params * tokens
    counts = f"{factor}·N·tokens: N {params / 1e9:.2f}B × {what}" + (f", × {scale:g} passes" if scale != 1 else "")
    return StepCost(step, counts, tokens, flops, gpu_hours(flops, settings))


def format_count(value: float) -> str:
    """1234 → 1.2k, 5.6e6 → 5.6M (sizes in the dry-run tables)."""
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}" if value == math.floor(value) else f"{value:.1f}"
