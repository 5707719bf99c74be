"""Acoustic-rule baselines: the floor a speech LLM must beat on a paralinguistic task.

One measured number per clip (median F0 for gender and pitch, words per second for rate, from
`textpro.acoustics.utterance_acoustics`) and thresholds between adjacent labels, fitted on the benchmark's `train`
split (at most `TRAIN_CAP` clips per task, evenly spaced) and scored on the evaluated split. Measurements are
cached in a JSONL (keyed by item id and audio path) so a rerun measures nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RULE_FEATURES = {"gender": "f0_median", "pitch": "f0_median", "rate": "words_per_second"}
TRAIN_CAP = 300


@dataclass
class ThresholdRule:
    """labels in increasing order of the feature; thresholds[i] separates labels[i] from labels[i + 1]."""

    feature: str
    labels: list[str]
    thresholds: list[float]

    def predict(self, value: float | None) -> str | None:
        if value is None:
            return None
        return self.labels[int(np.searchsorted(self.thresholds, value, side="right"))]

    def to_dict(self) -> dict:
        return {"feature": self.feature, "labels": self.labels, "thresholds": self.thresholds}


def best_split(low: Sequence[float], high: Sequence[float]) -> float:
    """The threshold t that classifies most of `low` as ≤ t and most of `high` as > t (midpoint between values)."""
    low, high = np.sort(np.asarray(low, float)), np.sort(np.asarray(high, float))
    values = np.unique(np.concatenate([low, high]))
    candidates = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2, [values[-1] + 1.0]])
    right = np.searchsorted(low, candidates, side="right") + len(high) - np.searchsorted(high, candidates,
                                                                                        side="right")
    return float(candidates[int(np.argmax(right))])


def fit_rule(feature: str, values: Sequence[float | None], labels: Sequence[str]) -> ThresholdRule | None:
    """Order the labels by their median value, then fit one threshold between each adjacent pair."""
    by_label: dict[str, list[float]] = {}
    for value, label in zip(values, labels, strict=True):
        if value is not None:
            by_label.setdefault(label, []).append(value)
    if len(by_label) < 2:
        return None
    order = sorted(by_label, key=lambda label: float(np.median(by_label[label])))
    thresholds = [best_split(by_label[a], by_label[b]) for a, b in zip(order, order[1:], strict=False)]
    return ThresholdRule(feature, order, sorted(thresholds))


def evenly_spaced(items: Sequence, cap: int = TRAIN_CAP) -> list:
    if len(items) <= cap:
        return list(items)
    return [items[int(i)] for i in np.linspace(0, len(items) - 1, cap).round().astype(int)]


class AcousticCache:
    """Item id → measured acoustics (f0_median, words_per_second), measured once, kept in a JSONL."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self.rows: dict[tuple[str, str], dict] = {}
        if self.path and self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    self.rows[(row["id"], row["audio"])] = row
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue

    def measure(self, item) -> dict:
        key = (item.id, str(item.audio_path))
        if key not in self.rows:
            self.rows[key] = self._measure(item)
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(self.rows[key]) + "\n")
        return self.rows[key]

    @staticmethod
    def _measure(item) -> dict:
        from textpro.acoustics import utterance_acoustics
        from textpro.audio import load_audio

        n_words = len(item.text.split()) if item.text else 0
        acoustics = utterance_acoustics(load_audio(item.audio_path, max_seconds=None), n_words)
        return {"id": item.id, "audio": str(item.audio_path), "f0_median": acoustics.f0_median,
                "words_per_second": acoustics.words_per_second if n_words else None}


def rule_baselines(train_items: Sequence, eval_items: Sequence, cache: AcousticCache) -> dict[str, dict]:
    """Per task with a rule: the fitted rule, its accuracy on train and on the evaluated items, and its predictions
    (item id → label) for the evaluated items."""
    out = {}
    for task, feature in RULE_FEATURES.items():
        train = evenly_spaced([i for i in train_items if i.task == task])
        evaluated = [i for i in eval_items if i.task == task]
        if not train or not evaluated:
            continue
        rule = fit_rule(feature, [cache.measure(i)[feature] for i in train], [i.reference for i in train])
        if rule is None:
            continue
        predicted = {i.id: rule.predict(cache.measure(i)[feature]) for i in evaluated}
        train_hits = sum(rule.predict(cache.measure(i)[feature]) == i.reference for i in train)
        out[task] = {**rule.to_dict(), "train_n": len(train), "train_accuracy": 100.0 * train_hits / len(train),
                     "n": len(evaluated), "predicted": predicted,
                     "accuracy": 100.0 * sum(predicted[i.id] == i.reference for i in evaluated) / len(evaluated)}
    return out
