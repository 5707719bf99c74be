"""Are the paralinguistic labels audible? A simple probe on acoustic features answers it with numbers.

Per clip, five numbers measured from the waveform (no model): median F0 (log Hz), F0 range (semitones between the
10th and 90th percentile of voiced frames), speaking rate (words per second of speech, from the text's word count
and the time from the first to the last loud frame), loudness (RMS dBFS of the loud frames) and spectral tilt
(energy above 2 kHz relative to below, a coarse timbre/accent cue). A k-nearest-neighbour classifier on
standardized features is fitted on the train split and scored on the test split, whose voices it never heard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textpro.audio import SAMPLE_RATE, load_audio
from textpro.data.paralinguistic import LABELS, TASKS

FEATURES = ("log_f0_median", "f0_range_st", "words_per_second", "rms_db", "tilt_db")
LOUD_DB = -35.0  # frames within this of the clip's loudest frame count as speech


def acoustic_features(samples: np.ndarray, n_words: int) -> np.ndarray:
    """The five probe features of a 16 kHz clip spoken with `n_words` words."""
    from textpro.acoustics import FRAME_SECONDS, Tracks

    tracks = Tracks.measure(samples)
    voiced = tracks.f0[tracks.f0 > 0]
    if len(voiced) < 3:
        voiced = np.array([100.0, 100.0, 100.0])
    low, median, high = np.percentile(voiced, [10, 50, 90])
    loud = tracks.rms > tracks.rms.max() * 10 ** (LOUD_DB / 20)
    frames = np.flatnonzero(loud)
    speech_seconds = max((frames[-1] - frames[0] + 1) * FRAME_SECONDS, 0.1) if len(frames) else 0.1
    rms_db = 20 * np.log10(np.sqrt(np.mean(tracks.rms[loud] ** 2)) + 1e-10) if len(frames) else -100.0
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    cut = int(2000 / (SAMPLE_RATE / 2) * (len(spectrum) - 1))
    tilt_db = 10 * np.log10((spectrum[cut:].sum() + 1e-12) / (spectrum[:cut].sum() + 1e-12))
    return np.array([np.log(median), 12 * np.log2(high / low), n_words / speech_seconds, rms_db, tilt_db])


@dataclass
class LinearProbe:
    """Multinomial logistic regression on standardized features (full-batch gradient descent, small L2)."""

    steps: int = 500
    learning_rate: float = 0.5
    l2: float = 1e-3

    def fit(self, x: np.ndarray, y: list[str]) -> LinearProbe:
        self.classes = sorted(set(y))
        self.mean, self.std = x.mean(0), x.std(0) + 1e-9
        z = (x - self.mean) / self.std
        target = np.eye(len(self.classes))[[self.classes.index(label) for label in y]]
        self.w, self.b = np.zeros((z.shape[1], len(self.classes))), np.zeros(len(self.classes))
        for _ in range(self.steps):
            grad = self._probabilities(z) - target
            self.w -= self.learning_rate * (z.T @ grad / len(z) + self.l2 * self.w)
            self.b -= self.learning_rate * grad.mean(0)
        return self

    def _probabilities(self, z: np.ndarray) -> np.ndarray:
        logits = z @ self.w + self.b
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(1, keepdims=True)

    def predict(self, x: np.ndarray) -> list[str]:
        z = (x - self.mean) / self.std
        return [self.classes[i] for i in self._probabilities(z).argmax(1)]


def _features_of(records: list[dict], root: Path, limit: int, rng: np.random.Generator) -> tuple[np.ndarray, list]:
    if len(records) > limit:
        records = [records[i] for i in sorted(rng.choice(len(records), size=limit, replace=False))]
    rows = [acoustic_features(load_audio(root / r["audio"], max_seconds=None), len(r["text"].split()))
            for r in records]
    return np.array(rows), [r["reference"] for r in records]


def probe_report(root: str | Path, *, train_limit: int = 300, test_splits=("test", "test_robust"),
                 seed: int = 0) -> dict:
    """{task: {"chance": …, split: accuracy, "n_train": …}} for each paralinguistic task of a benchmark."""
    from textpro.data.mini import read_split

    root = Path(root)
    rng = np.random.default_rng(seed)
    train = read_split(root, "train")
    tests = {split: read_split(root, split) for split in test_splits if (root / f"{split}.jsonl").exists()}
    report: dict = {}
    for task in TASKS:
        x, y = _features_of([r for r in train if r["task"] == task], root, train_limit, rng)
        if len(set(y)) < 2:
            continue
        model = LinearProbe().fit(x, y)
        entry: dict = {"chance": round(1 / len(LABELS[task]), 3), "n_train": len(y)}
        for split, records in tests.items():
            xt, yt = _features_of([r for r in records if r["task"] == task], root, train_limit, rng)
            if len(yt):
                entry[split] = round(float(np.mean(np.array(model.predict(xt)) == np.array(yt))), 3)
                entry[f"n_{split}"] = len(yt)
        report[task] = entry
    return report


def format_report(report: dict) -> str:
    splits = sorted({k for entry in report.values() for k in entry if not k.startswith("n_") and k != "chance"})
    lines = [f"{'task':8} {'chance':>6} " + " ".join(f"{s:>11}" for s in splits) + "   (linear probe on " +
             ", ".join(FEATURES) + "; fitted on train)"]
    for task, entry in report.items():
        cells = " ".join(f"{entry.get(s, float('nan')):>11.3f}" for s in splits)
        lines.append(f"{task:8} {entry['chance']:>6.3f} {cells}   n_train={entry['n_train']}")
    return "\n".join(lines)


def accent_phoneme_difference() -> dict:
    """How often two accents pronounce a sentence of the bank differently (espeak's own phoneme strings).

    Utterance-level acoustic statistics barely see accent (it lives in individual vowels and consonants), so
    the accent labels are checked where they are made: in the phonemes each accent's voice speaks.
    """
    from itertools import combinations

    from textpro.data.espeak import phonemes
    from textpro.data.paralinguistic import SENTENCES
    from textpro.data.synth import ACCENTS

    pairs = list(combinations(ACCENTS, 2))
    spoken = {(s, a): phonemes(s, ACCENTS[a]) for s in SENTENCES for a in ACCENTS}
    per_pair = {f"{a}/{b}": float(np.mean([spoken[s, a] != spoken[s, b] for s in SENTENCES])) for a, b in pairs}
    return {"differing_pairs": float(np.mean(list(per_pair.values()))), "per_pair": per_pair,
            "example": {a: spoken[SENTENCES[0], a] for a in ACCENTS}}
