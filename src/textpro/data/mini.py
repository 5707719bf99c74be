"""`textpro data make-mini`: the mini world's spoken benchmark, written as VoiceBench-like JSONL + audio files.

Layout under OUT:
    train.jsonl dev.jsonl test.jsonl test_robust.jsonl   one record per line
    audio/<split>/<id>.flac                              16 kHz mono 16-bit
    summary.json                                         counts, hours, generation speed, the config

A record: id, split, task ("semantic" or a paralinguistic task), audio (path relative to OUT), duration, prompt
(the text version of the question / the instruction), reference (letter A–D or a label), text (what the voice
says), words ([word, start, end] seconds), and the generating parameters (engine, voice, accent, variant,
gender, pitch, pitch_range, rate, volume, f0_scale, style…). test_robust holds the test records again with noise,
reverb and (where it does not change the label) tempo perturbations, described in `perturbation`.

Every record is drawn from its own random generator keyed by (seed, split, task, index): the records (text,
labels, parameters) are the same for a seed whatever the number of worker processes. The samples are bit-exact
for a fresh process with the same seed and --workers; otherwise some espeak voices differ by milliseconds of
timing (the engine carries wave-generator state from clip to clip, see `textpro.data.espeak`).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from textpro.audio import SAMPLE_RATE
from textpro.data import paralinguistic as para
from textpro.data import questions
from textpro.data.perturb import Perturbation, scale_f0
from textpro.data.synth import (
    ACCENTS,
    VARIANT_GENDER,
    EspeakProsody,
    SynthResult,
    synthesize_espeak,
    synthesize_piper_result,
)
from textpro.errors import TextproError

SPLITS = ("train", "dev", "test")
TASKS = ("semantic", *para.TASKS)
# Rough clip lengths, used only to turn --hours into record counts (the summary reports the real hours).
EXPECTED_SECONDS = {"semantic": 6.0, "paralinguistic": 2.4}
# Tempo perturbation would change the label of these tasks, so their robust copies get noise and reverb only.
TEMPO_SENSITIVE = {"rate", "style"}


@dataclass
class MiniConfig:
    out: Path
    seed: int = 0
    hours: float = 2.0  # target audio in train + dev + test (test_robust comes on top)
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train, dev, test
    semantic_fraction: float = 0.5  # share of audio time for multiple-choice questions
    piper_fraction: float = 0.05  # share of train semantic clips spoken by piper's natural voice (~3× real time here)
    robust: bool = True  # write test_robust
    workers: int = 1  # processes; the output does not depend on it
    progress: bool = True
    counts: dict = field(default_factory=dict)  # derived: {split: {task: records}}

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if not self.hours > 0:
            raise TextproError(f"--hours must be positive, got {self.hours}")
        seconds = self.hours * 3600
        per_task = {
            "semantic": seconds * self.semantic_fraction / EXPECTED_SECONDS["semantic"],
            **{t: seconds * (1 - self.semantic_fraction) / len(para.TASKS) / EXPECTED_SECONDS["paralinguistic"]
               for t in para.TASKS},
        }
        # At least one record per task and split, so that a tiny run still exercises everything.
        self.counts = {split: {task: max(1, round(n * fraction)) for task, n in per_task.items()}
                       for split, fraction in zip(SPLITS, self.split_fractions, strict=True)}


@dataclass(frozen=True)
class Job:
    seed: int
    split: str  # train / dev / test / test_robust
    task: str
    index: int
    piper_fraction: float

    @property
    def id(self) -> str:
        return f"{self.split}-{self.task}-{self.index:05d}"

    def rng(self, purpose: str = "content") -> np.random.Generator:
        # test_robust re-draws the test record (same content), then perturbs it with a separate stream.
        split = "test" if self.split == "test_robust" else self.split
        key = [self.seed, SPLITS.index(split), TASKS.index(self.task), self.index, ["content", "robust"].index(purpose)]
        return np.random.default_rng(key)


def _uniform_int(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _pick(rng: np.random.Generator, items: list):
    return items[int(rng.integers(len(items)))]


# ------------------------------------------------------------------------------------------ pitch targets
# Median F0 relative to espeak's pitch 50, measured on several voices (it is the same ratio for all of them).
_PITCH_PARAM = np.array([10, 30, 50, 70, 90])
_PITCH_RATIO = np.array([0.727, 0.838, 1.0, 1.225, 1.5])


# Median F0 (Hz) of each voice variant at espeak pitch 50 (american accent; other accents are within ~2%),
# measured once with `measure_voice_base_f0`. A fixed table, not a measurement at run time, so that the chosen
# pitch parameters depend on the seed only (espeak's waveforms carry tiny state from clip to clip).
VOICE_BASE_F0 = {
    "m1": 93.8, "m2": 101.0, "m3": 104.6, "m4": 93.8, "m5": 103.3, "m6": 101.7, "m7": 107.2, "m8": 86.1,
    "Andy": 96.1, "Denis": 99.3, "Hugo": 109.2, "michel": 105.4, "sandro": 99.4, "antonio": 110.8,
    "Diogo": 105.2, "travis": 102.6, "victor": 95.5, "miguel": 111.6, "f1": 181.5, "f2": 196.9, "f3": 211.4,
    "f4": 180.9, "f5": 207.0, "Andrea": 245.5, "Annie": 241.2, "linda": 229.5, "belinda": 229.7,
    "steph": 184.8, "Alicia": 250.7, "anika": 271.4, "grandma": 200.9, "aunty": 171.8,
}


def measure_voice_base_f0(accent: str, variant: str) -> float:
    """Median F0 (Hz) of a voice at espeak pitch 50 on a fixed sentence (how VOICE_BASE_F0 was made)."""
    from textpro.acoustics import Tracks

    clip = synthesize_espeak("The quick brown fox jumps over the lazy dog near the river bank.",
                             accent=accent, variant=variant).resampled(SAMPLE_RATE)
    f0 = Tracks.measure(clip.samples).f0
    return float(np.median(f0[f0 > 0]))


def pitch_setting(base_f0: float, target_f0: float) -> tuple[int, float]:
    """(espeak pitch parameter, residual F0 factor for pyworld) that put a voice's median F0 at `target_f0`.

    espeak alone spans about ×0.73..×1.5 of a voice's base pitch; beyond that pyworld scales the rest.
    """
    want = math.log(target_f0 / base_f0)
    log_ratios = np.log(_PITCH_RATIO)
    param = int(round(float(np.interp(want, log_ratios, _PITCH_PARAM))))
    reached = base_f0 * float(np.exp(np.interp(param, _PITCH_PARAM, log_ratios)))
    residual = target_f0 / reached
    return param, (1.0 if abs(math.log(residual)) < 0.05 else round(residual, 4))


# ------------------------------------------------------------------------------------------ one record
def _neutral_prosody(rng: np.random.Generator) -> EspeakProsody:
    return EspeakProsody(**{name: _uniform_int(rng, bounds) for name, bounds in para.NEUTRAL.items()})


def _speak(job: Job) -> tuple[SynthResult, dict]:
    """Synthesize the clean clip of a job. Returns (16 kHz clip, record fields without audio path)."""
    rng = job.rng()
    split = "test" if job.split == "test_robust" else job.split
    voices = para.VOICE_SPLITS[split]
    accent, variant = _pick(rng, list(ACCENTS)), _pick(rng, voices)
    fields: dict = {"task": job.task}
    f0_scale = 1.0

    if job.task == "semantic":
        template = _pick(rng, questions.templates_for(split))
        question = questions.make_question(template, rng)
        text = question.spoken()
        fields.update(prompt=question.prompt(), reference=question.reference, kind=question.kind,
                      template=question.template, choices=question.choices,
                      answer_text=question.choices[question.answer])
        if split == para.PIPER_SPLIT and rng.random() < job.piper_fraction:
            clip = synthesize_piper_result(text, length_scale=round(float(rng.uniform(0.9, 1.15)), 3))
            return clip.resampled(SAMPLE_RATE), {**fields, "text": text, **_voice_fields(clip.params, "male")}
        prosody = _neutral_prosody(rng)
        emphasis: set[int] = set()
    else:
        text = _pick(rng, para.sentences_for(split))
        label = _pick(rng, para.LABELS[job.task])
        fields.update(prompt=_pick(rng, para.PROMPTS[job.task]), reference=label, labels=para.LABELS[job.task])
        prosody, emphasis = _neutral_prosody(rng), set()
        if job.task == "gender":
            variant = _pick(rng, [v for v in voices if VARIANT_GENDER[v] == label])
        elif job.task == "accent":
            accent = label
        elif job.task == "rate":
            prosody.rate = _uniform_int(rng, para.RATE_WPM[label])
        elif job.task == "pitch":
            low, high = para.PITCH_BANDS_HZ[label]
            target = float(np.exp(rng.uniform(np.log(low), np.log(high))))
            prosody.pitch, f0_scale = pitch_setting(VOICE_BASE_F0[variant], target)
            fields["target_f0"] = round(target, 1)
        elif job.task == "style":
            style = para.STYLES[label]
            prosody = EspeakProsody(pitch=_uniform_int(rng, style.pitch),
                                    pitch_range=_uniform_int(rng, style.pitch_range),
                                    rate=_uniform_int(rng, style.rate), volume=_uniform_int(rng, style.volume))
            n_words = len(text.split())
            emphasis = {int(i) for i in rng.choice(n_words, size=style.emphasized, replace=False)}
            fields["style"] = label

    clip = synthesize_espeak(text, accent=accent, variant=variant, prosody=prosody, emphasis=emphasis)
    clip = clip.resampled(SAMPLE_RATE)
    if f0_scale != 1.0:
        clip = SynthResult(scale_f0(clip.samples, SAMPLE_RATE, f0_scale), SAMPLE_RATE, clip.words, clip.params)
    params = {**clip.params, "f0_scale": f0_scale}
    return clip, {**fields, "text": text, **_voice_fields(params, VARIANT_GENDER[variant])}


def _voice_fields(params: dict, gender: str) -> dict:
    return {"gender": gender, **{k: v for k, v in params.items() if k != "gender"}}


def render(job: Job, out: Path) -> dict:
    """Synthesize, perturb (test_robust), write the audio file and return the record."""
    clip, fields = _speak(job)
    samples, words = clip.samples, clip.words
    if job.split == "test_robust":
        perturbation = robust_condition(job)
        samples = perturbation.apply(samples, SAMPLE_RATE, job.rng("robust"))
        fields["perturbation"] = perturbation.to_dict()
        words = [type(w)(w.text, _scaled(w.start, perturbation.tempo), _scaled(w.end, perturbation.tempo))
                 for w in words]
    peak = float(np.max(np.abs(samples)))
    if peak > 0.99:  # loud styles can reach full scale: scale down rather than clip
        samples = samples * (0.99 / peak)
    relative = Path("audio") / job.split / f"{job.id}.flac"
    path = out / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    import soundfile as sf

    sf.write(path, samples, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    return {"id": job.id, "split": job.split, "audio": relative.as_posix(),
            "duration": round(len(samples) / SAMPLE_RATE, 3), **fields,
            "words": [[w.text, w.start, w.end] for w in words]}


def _scaled(t: float | None, tempo: float) -> float | None:
    return None if t is None else round(t / tempo, 3)


def robust_condition(job: Job) -> Perturbation:
    """Noise at 0–20 dB SNR (white/pink/brown), reverb on half the clips, tempo ×0.8–1.25 where allowed."""
    rng = job.rng("robust")
    tempo = 1.0
    if job.task not in TEMPO_SENSITIVE and rng.random() < 0.5:
        tempo = round(float(rng.uniform(0.8, 1.25)), 3)
    rt60 = round(float(rng.uniform(0.2, 0.8)), 3) if rng.random() < 0.5 else 0.0
    snr = round(float(rng.uniform(0.0, 20.0)), 1)
    return Perturbation(tempo=tempo, rt60=rt60, snr_db=snr, noise_colour=_pick(rng, ["white", "pink", "brown"]))


# ------------------------------------------------------------------------------------------ whole benchmark
def plan(config: MiniConfig) -> list[Job]:
    jobs = [Job(config.seed, split, task, i, config.piper_fraction)
            for split in SPLITS for task in TASKS for i in range(config.counts[split][task])]
    if config.robust:
        jobs += [Job(config.seed, "test_robust", task, i, config.piper_fraction)
                 for task in TASKS for i in range(config.counts["test"][task])]
    return jobs


def _render_star(args: tuple[Job, Path]) -> dict:
    return render(*args)


def _render_shard(shard: list[tuple[Job, Path]]) -> list[dict]:
    return [render(*args) for args in shard]


def make_mini(config: MiniConfig) -> dict:
    """Write the benchmark under `config.out`; returns the summary (also written as summary.json)."""
    from tqdm import tqdm

    config.out.mkdir(parents=True, exist_ok=True)
    jobs = plan(config)
    started = time.perf_counter()
    records: dict[str, list[dict]] = {}
    work = [(job, config.out) for job in jobs]
    bar = dict(total=len(jobs), desc="make-mini", unit="clip", disable=not config.progress)
    if config.workers > 1:
        import multiprocessing

        # Static shards (worker k speaks jobs k, k+n, …, in order) rather than a work queue: each worker's
        # sequence of clips is fixed, so a fresh run with the same seed and workers gives the same samples.
        # spawn, not fork: each worker starts its own espeak engine instead of inheriting the parent's C state.
        shards = [work[k::config.workers] for k in range(config.workers)]
        rendered: dict[str, dict] = {}
        with multiprocessing.get_context("spawn").Pool(config.workers) as pool, tqdm(**bar) as progress:
            for shard in pool.imap_unordered(_render_shard, shards):
                rendered.update((r["id"], r) for r in shard)
                progress.update(len(shard))
        for job in jobs:
            record = rendered[job.id]
            records.setdefault(record["split"], []).append(record)
    else:
        for item in tqdm(work, **bar):
            record = _render_star(item)
            records.setdefault(record["split"], []).append(record)
    elapsed = time.perf_counter() - started

    for split, rows in records.items():
        with open(config.out / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    audio_seconds = sum(r["duration"] for rows in records.values() for r in rows)
    summary = {
        "records": {split: len(rows) for split, rows in records.items()},
        "tasks": {split: _count(rows, "task") for split, rows in records.items()},
        "hours": {split: round(sum(r["duration"] for r in rows) / 3600, 3) for split, rows in records.items()},
        "total_hours": round(audio_seconds / 3600, 3),
        "generation_seconds": round(elapsed, 1),
        "times_real_time": round(audio_seconds / max(elapsed, 1e-9), 1),
        "workers": config.workers,
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()
                   if k not in ("out", "progress")},
    }
    (config.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _count(rows: list[dict], key: str) -> dict:
    counts: dict = {}
    for row in rows:
        counts[row[key]] = counts.get(row[key], 0) + 1
    return counts


def read_split(out: str | os.PathLike, split: str) -> list[dict]:
    """The records of one split of a benchmark written by `make_mini`."""
    path = Path(out) / f"{split}.jsonl"
    if not path.exists():
        raise TextproError(f"{path} does not exist: run `textpro data make-mini --out {out}` first")
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
