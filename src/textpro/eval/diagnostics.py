"""Diagnostics beside the headline accuracies: how answers spread over labels, per speaker and per phrasing, how a
speech LLM compares with its cascade item by item, and how close open-ended answers are to the text LLM's.

All functions take items and per-item values (item id → predicted label, or → correct) and return JSON-ready dicts;
percentages are 0–100.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

ONE_LABEL_SHARE = 60.0  # a task answered with one label for more than this share of its items is flagged
NONE = "none"  # the histogram's name for answers that name no label


def _pct(hits: int, n: int) -> float | None:
    return 100.0 * hits / n if n else None


def answer_histogram(items: Sequence, predicted: Mapping[str, str | None]) -> dict:
    """Share of each predicted label (and of answers naming none); `one_label` when one label exceeds 60%."""
    counts = Counter(predicted[item.id] or NONE for item in items)
    shares = {label: _pct(count, len(items)) for label, count in counts.most_common()}
    top, top_share = next(iter(shares.items()), (None, None))
    return {"shares": shares, "top": top, "top_share": top_share,
            "one_label": top_share is not None and top_share > ONE_LABEL_SHARE}


def balanced_accuracy(items: Sequence, predicted: Mapping[str, str | None]) -> float | None:
    """The mean over reference labels of each label's recall: a constant answer scores 100 / (number of labels)."""
    recalls = []
    for label in sorted({item.reference for item in items}):
        mine = [item for item in items if item.reference == label]
        recalls.append(sum(predicted[item.id] == label for item in mine) / len(mine))
    return 100.0 * float(np.mean(recalls)) if recalls else None


def per_speaker(items: Sequence, predicted: Mapping[str, str | None]) -> list[dict]:
    """One row per voice: n, the voice's reference labels and accuracy."""
    rows = []
    for voice in sorted({item.voice for item in items if item.voice}):
        mine = [item for item in items if item.voice == voice]
        rows.append({"voice": voice, "n": len(mine), "labels": sorted({item.reference for item in mine}),
                     "accuracy": _pct(sum(predicted[item.id] == item.reference for item in mine), len(mine))})
    return rows


def by_phrasing(items: Sequence, predicted: Mapping[str, str | None], seen_instructions: set[str] | None = None
                ) -> dict:
    """Accuracy per phrasing form (direct, open, yes_no, two_way) and for phrasings training saw or not: an item's
    own `phrasing_seen`, else whether its instruction is among `seen_instructions` (the train split's)."""
    def score(group):
        return {"n": len(group), "accuracy": _pct(sum(predicted[i.id] == i.reference for i in group), len(group))}

    forms = sorted({item.phrasing_form for item in items if item.phrasing_form})
    out = {"forms": {form: score([i for i in items if i.phrasing_form == form]) for form in forms}}
    seen = {}
    for item in items:
        known = item.phrasing_seen if item.phrasing_seen is not None else (
            item.instruction in seen_instructions if seen_instructions is not None else None)
        if known is not None:
            seen.setdefault("seen" if known else "unseen", []).append(item)
    out.update({key: score(group) for key, group in sorted(seen.items())})
    return out


def paired_bootstrap(first: Sequence[bool], second: Sequence[bool], *, resamples: int = 1000, seed: int = 0
                     ) -> dict | None:
    """Mean of (first − second) per item in points, with the 95% percentile interval over `resamples` resamples of
    the items (the same resampled items for both systems). None without items."""
    diff = 100.0 * (np.asarray(first, float) - np.asarray(second, float))
    if not len(diff):
        return None
    low, high = bootstrap_interval(diff, resamples=resamples, seed=seed)
    return {"n": len(diff), "mean_difference": float(diff.mean()), "low": low, "high": high,
            "resamples": resamples, "seed": seed}


def bootstrap_interval(values: Sequence[float], *, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """The 95% percentile interval of the mean of `values` (non-empty) over `resamples` resamples of them."""
    values = np.asarray(values, float)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


# ---- open-ended answers ----------------------------------------------------------------------------------------------

@functools.cache
def _rouge_scorer():
    """rouge-score's ROUGE-L scorer (no stemming), or None where the package is missing."""
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        return None
    return rouge_scorer.RougeScorer(["rougeL"])


def rouge_backend() -> str:
    return "rouge-score" if _rouge_scorer() else "lcs"


def _lcs_rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 from the longest common subsequence of lowercase word tokens (the fallback without rouge-score)."""
    a, b = candidate.lower().split(), reference.lower().split()
    if not a or not b:
        return 0.0
    row = [0] * (len(b) + 1)
    for x in a:
        previous = 0
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], previous + 1 if x == y else max(row[j], row[j - 1])
    lcs = row[-1]
    return 0.0 if lcs == 0 else 2 * lcs / (len(a) + len(b))


def rouge_l(candidate: str, reference: str) -> float:
    scorer = _rouge_scorer()
    if scorer is None:
        return _lcs_rouge_l(candidate, reference)
    return float(scorer.score(reference, candidate)["rougeL"].fmeasure)


def length_ratio(candidate: str, reference: str) -> float | None:
    """Words in the candidate over words in the reference (None for an empty reference)."""
    words = len(reference.split())
    return len(candidate.split()) / words if words else None


def open_scores(items: Sequence, answers: Mapping[str, str], references: Mapping[str, str]) -> dict:
    """Mean ROUGE-L F (0–1) with its 95% bootstrap interval over the items (a few dozen requests leave a mean
    uncertain by ±0.05: the interval says whether two systems differ), and the mean length ratio of `answers`
    against `references` (the text LLM's answers)."""
    rouge = [rouge_l(answers[i.id], references[i.id]) for i in items]
    ratios = [r for r in (length_ratio(answers[i.id], references[i.id]) for i in items) if r is not None]
    return {"n": len(items), "rouge_l": float(np.mean(rouge)) if rouge else None,
            "rouge_l_interval": list(bootstrap_interval(rouge)) if rouge else None,
            "length_ratio": float(np.mean(ratios)) if ratios else None, "backend": rouge_backend()}
