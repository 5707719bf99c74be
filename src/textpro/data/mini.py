"""`textpro data make-mini`: the mini world's spoken benchmark, written as VoiceBench-like JSONL + audio files.

Layout under OUT:
    train.jsonl dev.jsonl test.jsonl test_robust.jsonl   espeak-ng (+ piper joe, festival ked in train), WORLD
    dev_unseen.jsonl test_unseen.jsonl                   flite voices only (the unseen-engine splits)
    audio/<split>/<id>.flac                              16 kHz mono 16-bit
    summary.json                                         counts, hours, engines, voices, conditions, speed, config

A record: id, split, task ("semantic", a paralinguistic task, or "request"), audio (path relative to OUT),
duration, prompt (the text version of the question / the instruction / the request), reference (letter A–D, the
canonical label, or null for a request), target (paralinguistic: the training answer, the label or "<Label>, so
yes." / "<Label>, so no."), phrasing_form, text (what the voice says), words ([word, start, end] seconds; None times for
piper, festival and flite), and the generating parameters: engine, voice, variant, accent, gender (after any
conversion), espeak prosody or the engine's stretch, world ("none", "resynth", "f0" or "convert"), conversion
({from, to, f0_factor, warp} or null), f0_scale, conditions (train: {kinds, gain_db, rt60, telephone, snr_db,
noise_colour, codec} or null), and measured median_f0 (pitch) / measured_wps (rate on non-espeak engines).
test_robust holds the test records again with noise, reverb and (where it does not change the label) tempo
perturbations, described in `perturbation`.

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
from textpro.data import paralinguistic, questions, requests
from textpro.data.perturb import Condition, Perturbation, convert_voice
from textpro.data.synth import (
    ACCENTS,
    FLITE_VOICES,
    VARIANT_GENDER,
    EspeakProsody,
    SynthResult,
    engine_available,
    synthesize_espeak,
    synthesize_festival,
    synthesize_flite,
    synthesize_piper_result,
)
from textpro.errors import TextproError

SPLITS = ("train", "dev", "test")
UNSEEN_SPLITS = ("dev_unseen", "test_unseen")  # flite voices only: the unseen-engine splits
TASKS = ("semantic", *paralinguistic.TASKS)
REQUEST = "request"  # everyday spoken requests (no reference): train and the unseen splits
UNSEEN_TASKS = ("semantic", "gender", "pitch", "rate", REQUEST)  # flite has no accents or acted styles to offer
# Positions in the per-record random keys (append only: a new split or task must not move the old ones).
_KEY_SPLITS = (*SPLITS, *UNSEEN_SPLITS)
_KEY_TASKS = (*TASKS, REQUEST)
_PURPOSES = ("content", "robust", "voice", "condition", "phrasing")
# Rough clip lengths, used only to turn --hours into record counts (the summary reports the real hours).
EXPECTED_SECONDS = {"semantic": 6.0, "paralinguistic": 2.4}
# Tempo perturbation would change the label of these tasks, so their robust copies get noise and reverb only.
TEMPO_SENSITIVE = {"rate", "style"}
# Per 2 hours of --hours (scaled with it, at least 1 each): the train requests and the unseen splits' sizes.
DEFAULT_TRAIN_REQUESTS = 300
DEFAULT_UNSEEN = {"dev_unseen": (60, 30, 30), "test_unseen": (300, 150, 60)}  # semantic, per task, requests
# Tasks whose clips other engines than espeak may speak (accent and style are espeak parameters).
OPEN_ENGINE_TASKS = {"semantic", "gender", "pitch", "rate", REQUEST}
# Tasks whose clips may be gender-converted (style's label lives in pitch and loudness: left alone).
CONVERTIBLE_TASKS = {"semantic", "gender", "pitch", "rate", "accent", REQUEST}
# Recording conditions a train clip may get; level changes would move the loudness cue of `style`.
CONDITION_KINDS = ("level", "noise", "reverb", "telephone", "codec")


@dataclass
class MiniConfig:
    out: Path
    seed: int = 0
    hours: float = 2.0  # target audio in train + dev + test (test_robust and the unseen splits come on top)
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train, dev, test
    semantic_fraction: float = 0.5  # share of audio time for multiple-choice questions
    # Train clips (semantic, gender, pitch, rate, request) spoken by piper's joe (~20× real time) / festival's ked.
    piper_fraction: float = 0.08
    festival_fraction: float = 0.12
    conversion_fraction: float = 0.25  # clips whose voice is gender-converted with WORLD (train/dev/test)
    resynth_fraction: float = 0.15  # clips WORLD-resynthesised without conversion (same vocoder sound)
    condition_fraction: float = 0.4  # train clips with 1–2 recording conditions
    train_requests: int | None = None  # None: 300 per 2 h of --hours
    dev_unseen: tuple[int, int, int] | None = None  # (semantic, per task, requests); None: (60, 30, 30) per 2 h
    test_unseen: tuple[int, int, int] | None = None  # None: (300, 150, 60) per 2 h
    # (semantic, per paralinguistic task) records of `test`, instead of its share of --hours: a test split large
    # enough to read a few points' difference (test_robust keeps the --hours share, a prefix of test)
    test_sizes: tuple[int, int] | None = None
    unseen: bool = True  # write dev_unseen / test_unseen (needs flite on PATH)
    robust: bool = True  # write test_robust
    workers: int = 1  # processes; the output does not depend on it
    progress: bool = True
    counts: dict = field(default_factory=dict)  # derived: {split: {task: records}}
    robust_counts: dict = field(default_factory=dict)  # derived: {task: records} of test_robust

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if not self.hours > 0:
            raise TextproError(f"--hours must be positive, got {self.hours}")
        for name in ("piper_fraction", "festival_fraction", "conversion_fraction", "resynth_fraction",
                     "condition_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise TextproError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if self.piper_fraction + self.festival_fraction > 1 or self.conversion_fraction + self.resynth_fraction > 1:
            raise TextproError("piper + festival fractions and conversion + resynthesis fractions must be ≤ 1")
        seconds = self.hours * 3600
        scale = self.hours / 2.0
        per_task = {
            "semantic": seconds * self.semantic_fraction / EXPECTED_SECONDS["semantic"],
            **{t: seconds * (1 - self.semantic_fraction) / len(paralinguistic.TASKS)
               / EXPECTED_SECONDS["paralinguistic"] for t in paralinguistic.TASKS},
        }
        # At least one record per task and split, so that a tiny run still exercises everything.
        self.counts = {split: {task: max(1, round(n * fraction)) for task, n in per_task.items()}
                       for split, fraction in zip(SPLITS, self.split_fractions, strict=True)}
        self.robust_counts = dict(self.counts["test"])
        if self.test_sizes is not None:
            semantic, per = (int(n) for n in self.test_sizes)
            self.counts["test"] = {task: (semantic if task == "semantic" else per) for task in self.counts["test"]}
        requests = self.train_requests if self.train_requests is not None else \
            max(1, round(DEFAULT_TRAIN_REQUESTS * scale))
        if requests:
            self.counts["train"][REQUEST] = int(requests)
        if self.unseen:
            for split in UNSEEN_SPLITS:
                given = getattr(self, split)
                semantic, per, req = (given if given is not None else
                                      tuple(max(1, round(n * scale)) for n in DEFAULT_UNSEEN[split]))
                self.counts[split] = {"semantic": int(semantic), **{t: int(per) for t in UNSEEN_TASKS[1:-1]},
                                      REQUEST: int(req)}
                self.counts[split] = {t: n for t, n in self.counts[split].items() if n > 0}

    def mix(self) -> Mix:
        return Mix(self.festival_fraction, self.conversion_fraction, self.resynth_fraction, self.condition_fraction)


@dataclass(frozen=True)
class Mix:
    """How often festival's ked, voice conversion, resynthesis and a recording condition are drawn (piper's share
    is the job's `piper_fraction`)."""

    festival: float = 0.12
    conversion: float = 0.25
    resynth: float = 0.15
    conditions: float = 0.4


@dataclass(frozen=True)
class Job:
    seed: int
    split: str  # train / dev / test / test_robust / dev_unseen / test_unseen
    task: str
    index: int
    piper_fraction: float = 0.08
    mix: Mix = Mix()

    @property
    def id(self) -> str:
        return f"{self.split}-{self.task}-{self.index:05d}"

    @property
    def content_split(self) -> str:
        return "test" if self.split == "test_robust" else self.split

    def rng(self, purpose: str = "content") -> np.random.Generator:
        # test_robust re-draws the test record (same content), then perturbs it with a separate stream.
        key = [self.seed, _KEY_SPLITS.index(self.content_split), _KEY_TASKS.index(self.task), self.index,
               _PURPOSES.index(purpose)]
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
    return EspeakProsody(**{name: _uniform_int(rng, bounds) for name, bounds in paralinguistic.NEUTRAL.items()})


def _median_f0(samples: np.ndarray) -> float | None:
    from textpro.acoustics import Tracks

    f0 = Tracks.measure(samples).f0
    voiced = f0[f0 > 0]
    return float(np.median(voiced)) if len(voiced) else None


def _words_per_second(samples: np.ndarray, n_words: int) -> float:
    from textpro.acoustics import utterance_acoustics

    return float(utterance_acoustics(samples, n_words).words_per_second)


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]))))


def _content(job: Job, rng: np.random.Generator) -> tuple[str, dict, str | None]:
    """(spoken text, record fields, paralinguistic label or None) of a job; the content split's own material."""
    split = job.content_split
    content_split = {"dev_unseen": "dev", "test_unseen": "test"}.get(split, split)
    if job.task == "semantic":
        template = _pick(rng, questions.templates_for(content_split))
        question = questions.make_question(template, rng)
        return question.spoken(), dict(prompt=question.prompt(), reference=question.reference, kind=question.kind,
                                       template=question.template, choices=question.choices,
                                       answer_text=question.choices[question.answer]), None
    if job.task == REQUEST:
        family, text = _pick(rng, requests.requests_for(split))
        return text, dict(prompt=text, reference=None, request_family=family), None
    text = _pick(rng, paralinguistic.sentences_for(content_split))
    label = _pick(rng, paralinguistic.LABELS[job.task])
    return text, dict(labels=paralinguistic.LABELS[job.task]), label


def _phrase(job: Job, fields: dict, label: str) -> dict:
    """Prompt, reference, target and phrasing form of a paralinguistic record with (measured) `label`."""
    phrasing = paralinguistic.choose_phrasing(job.task, job.split, label, job.rng("phrasing"))
    return {**fields, "prompt": phrasing.text, "reference": label, "target": phrasing.target(label),
            "phrasing_form": phrasing.form}


def _engine(job: Job, rng: np.random.Generator) -> str:
    if job.content_split != "train" or job.task not in OPEN_ENGINE_TASKS:
        return "espeak-ng"
    u = rng.random()
    if u < job.piper_fraction:
        return "piper"
    if u < job.piper_fraction + job.mix.festival and engine_available("festival"):
        return "festival"
    return "espeak-ng"


def _stretch_to_rate(speak, text: str, target_wps: float) -> tuple[SynthResult, float, float]:
    """Speak with an engine's duration stretch chosen so that the measured words/s lands on `target_wps`."""
    n_words = len(text.split())
    first = speak(1.0).resampled(SAMPLE_RATE)
    stretch = float(np.clip(_words_per_second(first.samples, n_words) / target_wps, 0.4, 3.0))
    clip = speak(round(stretch, 3)).resampled(SAMPLE_RATE)
    return clip, round(stretch, 3), round(_words_per_second(clip.samples, n_words), 2)


def _speak(job: Job) -> tuple[SynthResult, dict]:
    """Synthesize the clean clip of a job. Returns (16 kHz clip, record fields without audio path)."""
    # Long on purpose: the order of the draws from `rng` and `voice_rng` below defines every clip of the shipped
    # data sets (make-mini is reproducible from its seed); one function keeps that order readable top to bottom,
    # where split into helpers a reordered call would silently change the data.
    if job.content_split in UNSEEN_SPLITS:
        return _speak_unseen(job)
    rng, voice_rng = job.rng(), job.rng("voice")
    text, fields, label = _content(job, rng)
    split = job.content_split
    fields = {"task": job.task, **fields}
    engine = _engine(job, voice_rng)
    convert = job.task in CONVERTIBLE_TASKS and voice_rng.random() < job.mix.conversion
    voices = paralinguistic.VOICE_SPLITS[split]
    accent = label if job.task == "accent" else _pick(rng, list(ACCENTS))
    if engine == "espeak-ng":
        want = label if job.task == "gender" else None
        if want:  # the label is the gender heard: a converted clip starts from a voice of the other gender
            source = want if not convert else {"male": "female", "female": "male"}[want]
            variant = _pick(rng, [v for v in voices if VARIANT_GENDER[v] == source])
        else:
            variant = _pick(rng, voices)
        source_gender = VARIANT_GENDER[variant]
    else:
        variant, source_gender = None, "male"  # piper's joe and festival's ked are both men
        if job.task == "gender":
            convert = label == "female"
    gender = ({"male": "female", "female": "male"}[source_gender]) if convert else source_gender
    extra: dict = {}
    f0_factor, warp = 1.0, 1.0
    if convert:
        up = source_gender == "male"
        f0_factor = float(voice_rng.uniform(1.6, 1.8)) ** (1 if up else -1)
        warp = float(voice_rng.uniform(1.12, 1.2)) ** (1 if up else -1)

    target = _log_uniform(rng, paralinguistic.PITCH_BANDS_HZ[label]) if job.task == "pitch" else None

    # -- the clip
    if engine == "espeak-ng":
        prosody, emphasis = _neutral_prosody(rng), set()
        if job.task == "rate":
            prosody.rate = _uniform_int(rng, paralinguistic.RATE_WPM[label])
        elif job.task == "pitch" and not convert:
            prosody.pitch, _ = pitch_setting(VOICE_BASE_F0[variant], target)
        elif job.task == "style":
            style = paralinguistic.STYLES[label]
            prosody = EspeakProsody(pitch=_uniform_int(rng, style.pitch),
                                    pitch_range=_uniform_int(rng, style.pitch_range),
                                    rate=_uniform_int(rng, style.rate), volume=_uniform_int(rng, style.volume))
            emphasis = {int(i) for i in rng.choice(len(text.split()), size=style.emphasized, replace=False)}
            fields["style"] = label
        clip = synthesize_espeak(text, accent=accent, variant=variant, prosody=prosody, emphasis=emphasis)
        clip = clip.resampled(SAMPLE_RATE)
    else:
        def speak(stretch: float) -> SynthResult:
            if engine == "piper":
                return synthesize_piper_result(text, length_scale=stretch)
            return synthesize_festival(text, voice="ked", duration_stretch=stretch)

        if job.task == "rate":
            target_wps = _log_uniform(rng, paralinguistic.RATE_WPS[label])
            clip, _, measured = _stretch_to_rate(speak, text, target_wps)
            extra.update(target_wps=round(target_wps, 2), measured_wps=measured)
        else:
            clip = speak(round(float(rng.uniform(0.9, 1.15)), 3)).resampled(SAMPLE_RATE)

    # -- WORLD: pitch targets, voice conversion, or a plain resynthesis
    world = "none"
    if job.task == "pitch":
        measured = _median_f0(clip.samples)
        residual = target / measured if measured else 1.0
        if convert or abs(math.log(residual)) >= 0.05:
            f0_factor = float(np.clip(residual, 0.3, 3.5))
        else:
            f0_factor = 1.0
        extra["target_f0"] = round(target, 1)
    if convert:
        world = "convert"
    elif f0_factor != 1.0:
        world = "f0"
    elif voice_rng.random() < job.mix.resynth / max(1e-9, 1 - job.mix.conversion) or (
            job.task == "gender" and engine != "espeak-ng"):
        # piper's and ked's women are all converted: their men are all resynthesised, so the vocoder's sound
        # does not tell the two apart
        world = "resynth"
    if world != "none":
        samples = convert_voice(clip.samples, SAMPLE_RATE, f0_factor, warp)
        clip = SynthResult(samples, SAMPLE_RATE, clip.words, clip.params)
    if job.task == "pitch":
        measured = _median_f0(clip.samples)
        extra["median_f0"] = None if measured is None else round(measured, 1)
    if job.task != "semantic" and job.task != REQUEST:
        fields = _phrase(job, fields, label)
    params = {k: v for k, v in clip.params.items() if k != "gender"}
    params.setdefault("accent", accent)
    conversion = ({"from": source_gender, "to": gender, "f0_factor": round(f0_factor, 4), "warp": round(warp, 4)}
                  if convert else None)
    return clip, {**fields, "text": text, "gender": gender, **params, "f0_scale": round(f0_factor, 4),
                  "world": world, "conversion": conversion, **extra}


def _speak_unseen(job: Job) -> tuple[SynthResult, dict]:
    """A dev_unseen / test_unseen clip: flite's voices (slt female; rms, awb, kal16 male), labels measured."""
    rng, voice_rng = job.rng(), job.rng("voice")
    text, fields, label = _content(job, rng)
    fields = {"task": job.task, **fields}
    extra: dict = {}
    f0_mean = None
    stretch = round(float(rng.uniform(0.9, 1.15)), 3)
    if job.task == "gender":
        voice = _pick(voice_rng, [v for v, g in FLITE_VOICES.items() if g == label])
        f0_mean = None if voice == "rms" else round(_log_uniform(rng, FLITE_GENDER_F0[label]), 1)
    elif job.task == "pitch":
        voice = _pick(voice_rng, FLITE_PITCH_VOICES[label])
    else:
        voice = _pick(voice_rng, list(FLITE_VOICES))
        if voice != "rms":
            f0_mean = round(_log_uniform(rng, FLITE_GENDER_F0[FLITE_VOICES[voice]]), 1)

    if job.task == "pitch":
        target = _log_uniform(rng, paralinguistic.PITCH_BANDS_HZ[label])
        f0_mean = None if voice == "rms" else target
        for _ in range(3):  # flite's intonation target is a mean, not a median: correct it twice at most
            clip = synthesize_flite(text, voice=voice, duration_stretch=stretch, f0_mean=f0_mean).resampled(
                SAMPLE_RATE)
            measured = _median_f0(clip.samples) or target
            low, high = paralinguistic.PITCH_BANDS_HZ[label]
            if voice == "rms" or low <= measured <= high:
                break
            f0_mean = float(np.clip(f0_mean * target / measured, 60, 400))
        label = paralinguistic.pitch_band(measured)  # the label is what was measured, as in train
        extra.update(target_f0=round(target, 1), median_f0=round(measured, 1))
    elif job.task == "rate":
        target_wps = _log_uniform(rng, paralinguistic.RATE_WPS[label])
        clip, stretch, measured_wps = _stretch_to_rate(
            lambda x: synthesize_flite(text, voice=voice, duration_stretch=x, f0_mean=f0_mean), text, target_wps)
        extra.update(target_wps=round(target_wps, 2), measured_wps=measured_wps)
    else:
        clip = synthesize_flite(text, voice=voice, duration_stretch=stretch, f0_mean=f0_mean).resampled(SAMPLE_RATE)
    if job.task in paralinguistic.TASKS:
        fields = _phrase(job, fields, label)
    params = {k: v for k, v in clip.params.items() if k != "gender"}
    return clip, {**fields, "text": text, "gender": FLITE_VOICES[voice], **params, "f0_scale": 1.0,
                  "world": "none", "conversion": None, **extra}


# flite voices able to reach each pitch band (rms ignores the F0 target and sits near 100 Hz; slt cannot go below
# ~120 Hz), and the F0 ranges drawn for flite voices of each gender outside the pitch task.
FLITE_PITCH_VOICES = {"low": ["rms", "awb", "kal16"], "mid": ["slt", "awb", "kal16"], "high": ["slt", "awb", "kal16"]}
FLITE_GENDER_F0 = {"male": (90.0, 130.0), "female": (160.0, 230.0)}


def train_condition(job: Job) -> Condition | None:
    """1–2 recording conditions for a share of train clips (level, noise, reverb, telephone band, codec)."""
    rng = job.rng("condition")
    if job.content_split != "train" or rng.random() >= job.mix.conditions:
        return None
    kinds = [k for k in CONDITION_KINDS if not (k == "level" and job.task == "style")]
    chosen = {kinds[i] for i in rng.choice(len(kinds), size=int(rng.integers(1, 3)), replace=False)}
    condition = Condition()
    if "level" in chosen:
        condition.gain_db = round(float(rng.uniform(-20.0, 6.0)), 1)
    if "noise" in chosen:
        condition.snr_db = round(float(rng.uniform(5.0, 30.0)), 1)
        condition.noise_colour = _pick(rng, ["white", "pink", "brown"])
    if "reverb" in chosen:
        condition.rt60 = round(float(rng.uniform(0.15, 0.7)), 3)
    if "telephone" in chosen:
        condition.telephone = True
    if "codec" in chosen:
        condition.codec = _pick(rng, ["mp3", "ogg"])
    return condition


def render(job: Job, out: Path) -> dict:
    """Synthesize, perturb (train conditions, test_robust), write the audio file and return the record."""
    clip, fields = _speak(job)
    samples, words = clip.samples, clip.words
    condition = train_condition(job)
    fields["conditions"] = condition.to_dict() if condition else None
    if condition:
        samples = condition.apply(samples, SAMPLE_RATE, job.rng("condition"))
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
    mix = config.mix()
    jobs = [Job(config.seed, split, task, i, config.piper_fraction, mix)
            for split in SPLITS for task in _KEY_TASKS for i in range(config.counts[split].get(task, 0))]
    if config.robust:
        jobs += [Job(config.seed, "test_robust", task, i, config.piper_fraction, mix)
                 for task in TASKS for i in range(config.robust_counts[task])]
    if config.unseen:
        if not engine_available("flite"):
            raise TextproError("the unseen-engine splits need flite: apt-get install flite (make install), "
                               "or pass --no-unseen")
        jobs += [Job(config.seed, split, task, i, config.piper_fraction, mix)
                 for split in UNSEEN_SPLITS for task in _KEY_TASKS for i in range(config.counts[split].get(task, 0))]
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
        "voices": {split: _count(rows, "voice") for split, rows in records.items()},
        "engines": {split: _count(rows, "engine") for split, rows in records.items()},
        "world": {split: _count(rows, "world") for split, rows in records.items()},
        "conditions": {split: _count_conditions(rows) for split, rows in records.items()},
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


def _count_conditions(rows: list[dict]) -> dict:
    counts: dict = {}
    for row in rows:
        for kind in (row.get("conditions") or {}).get("kinds", []) or ["none"]:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def read_split(out: str | os.PathLike, split: str) -> list[dict]:
    """The records of one split of a benchmark written by `make_mini`."""
    path = Path(out) / f"{split}.jsonl"
    if not path.exists():
        raise TextproError(f"{path} does not exist: run `textpro data make-mini --out {out}` first")
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
