"""What an evaluation produces: per-side scores, per-task results and the whole EvalResult (its `to_dict` is
results.json). The harness fills them in (harness.py); the reports and the ledger read them (report.py, ledger.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SideScore:
    """One system on one task. Accuracies are percentages."""

    n: int = 0
    correct: int = 0  # extraction failures count as wrong
    correct_with_fallback: int = 0  # extraction failures replaced by a seeded random letter (VoiceBench-compatible)
    failed: int = 0
    hits: dict[str, bool] = field(default_factory=dict, repr=False)  # item id → correct (for paired comparisons)

    @property
    def accuracy(self) -> float:
        return 100.0 * self.correct / self.n if self.n else float("nan")

    @property
    def accuracy_fallback(self) -> float:
        return 100.0 * self.correct_with_fallback / self.n if self.n else float("nan")

    @property
    def failure_pct(self) -> float:
        return 100.0 * self.failed / self.n if self.n else float("nan")

    def add(self, item_id: str, correct: bool, failed: bool, correct_with_fallback: bool) -> None:
        self.n += 1
        self.correct += correct
        self.failed += failed
        self.correct_with_fallback += correct_with_fallback
        self.hits[item_id] = correct

    def to_dict(self) -> dict:
        return {"n": self.n, "accuracy": self.accuracy, "accuracy_fallback": self.accuracy_fallback,
                "failure_pct": self.failure_pct, "correct": self.correct, "failed": self.failed}


def _side(score: SideScore | None) -> dict | None:
    return score.to_dict() if score else None


@dataclass
class SemanticTask:
    task: str
    n: int
    text: SideScore | None
    speech: SideScore | None
    neutral: SideScore | None = None  # the same SLM, prosody replaced by the training mean
    cascade: SideScore | None = None  # the SLM's own transcript → the text LLM
    agreement: float | None = None  # % of items where the speech and the prosody-neutral answers are identical
    # content-free change of the text prompt → % of items the text LLM answers identically with and without it
    text_self_agreement: dict[str, float] | None = None

    @property
    def gap(self) -> float | None:
        return self.text.accuracy - self.speech.accuracy if self.text and self.speech else None

    @property
    def text_self_agreement_mean(self) -> float | None:
        """The text LLM's self-agreement averaged over the content-free changes."""
        return _mean(self.text_self_agreement.values()) if self.text_self_agreement else None

    @property
    def gap_fallback(self) -> float | None:
        return self.text.accuracy_fallback - self.speech.accuracy_fallback if self.text and self.speech else None

    def to_dict(self) -> dict:
        return {"task": self.task, "n": self.n, "text": _side(self.text), "speech": _side(self.speech),
                "gap": self.gap, "gap_fallback": self.gap_fallback, "neutral": _side(self.neutral),
                "agreement": self.agreement, "text_self_agreement": self.text_self_agreement_mean,
                "text_self_agreement_by_change": self.text_self_agreement, "cascade": _side(self.cascade)}


@dataclass
class ParalinguisticTask:
    task: str
    n: int
    labels: tuple[str, ...]
    speech: SideScore
    neutral: SideScore | None = None
    cascade: SideScore | None = None
    agreement: float | None = None
    rule: dict | None = None  # the acoustic-rule baseline (rules.rule_baselines), without its predictions
    histogram: dict | None = None  # diagnostics.answer_histogram of the speech answers
    balanced_accuracy: float | None = None
    speakers: list[dict] = field(default_factory=list)  # diagnostics.per_speaker
    phrasing: dict = field(default_factory=dict)  # diagnostics.by_phrasing

    @property
    def chance(self) -> float:
        return 100.0 / len(self.labels) if self.labels else float("nan")

    def below_rule(self, score: SideScore | None) -> bool | None:
        """Whether `score` fails to beat the acoustic rule (None without a rule or a score)."""
        return None if self.rule is None or score is None else score.accuracy <= self.rule["accuracy"]

    def to_dict(self) -> dict:
        return {"task": self.task, "n": self.n, "labels": list(self.labels), "chance": self.chance,
                "speech": self.speech.to_dict(), "neutral": _side(self.neutral), "agreement": self.agreement,
                "cascade": _side(self.cascade), "rule": self.rule, "below_rule": self.below_rule(self.speech),
                "cascade_below_rule": self.below_rule(self.cascade), "histogram": self.histogram,
                "balanced_accuracy": self.balanced_accuracy, "speakers": self.speakers, "phrasing": self.phrasing}


@dataclass
class OpenTask:
    """Open-ended requests: the speech answers against the text LLM's answers to the ground-truth text; and against
    its answers to the speech system's own transcript (the cascade's), which leaves out what the transcription lost."""

    task: str
    n: int
    speech: dict  # diagnostics.open_scores: rouge_l (0–1), length_ratio
    cascade: dict | None = None
    same_transcript: dict | None = None  # the speech answers against the cascade's

    def to_dict(self) -> dict:
        return {"task": self.task, "n": self.n, "speech": self.speech, "cascade": self.cascade,
                "same_transcript": self.same_transcript}


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _pooled(shares: list[tuple[float, int]]) -> float | None:
    """A % pooled over items from (% of a task, its n) pairs."""
    return sum(a * n for a, n in shares) / sum(n for _, n in shares) if shares else None


@dataclass
class EvalResult:
    bench: str
    split: str
    text_system: str | None
    speech_system: str | None
    semantic: list[SemanticTask] = field(default_factory=list)
    paralinguistic: list[ParalinguisticTask] = field(default_factory=list)
    seed: int = 0
    match_option_text: bool = False
    cascade_system: str | None = None  # the SLM's transcripts → the text LLM, beside the SLM
    neutral_available: bool = False  # whether prosody-neutral answers were asked
    open: list[OpenTask] = field(default_factory=list)
    bootstrap: dict | None = None  # speech − cascade on semantic items (diagnostics.paired_bootstrap)
    agreement_bootstrap: dict | None = None  # agreement's interval; agreement − the text LLM's self-agreement, paired

    def averages(self) -> dict:
        """Plain means over tasks, as the paper averages over benchmarks; agreement is pooled over items."""
        sem, para = self.semantic, self.paralinguistic
        agreeing = [(t.agreement, t.n) for t in sem if t.agreement is not None]
        changes = next((list(t.text_self_agreement) for t in sem if t.text_self_agreement), [])
        self_agreeing = {change: _pooled([(t.text_self_agreement[change], t.n) for t in sem
                                          if t.text_self_agreement]) for change in changes}
        return {
            "text_accuracy": _mean(t.text.accuracy for t in sem if t.text),
            "speech_accuracy": _mean(t.speech.accuracy for t in sem if t.speech),
            "gap": _mean(t.gap for t in sem),
            "gap_fallback": _mean(t.gap_fallback for t in sem),
            "text_failure_pct": _mean(t.text.failure_pct for t in sem if t.text),
            "speech_failure_pct": _mean(t.speech.failure_pct for t in sem if t.speech),
            "paralinguistic_accuracy": _mean(t.speech.accuracy for t in para),
            "neutral_accuracy": _mean(t.neutral.accuracy for t in sem if t.neutral),
            "agreement": _pooled(agreeing),
            "text_self_agreement": _mean(self_agreeing.values()),
            "text_self_agreement_by_change": self_agreeing or None,
            "cascade_accuracy": _mean(t.cascade.accuracy for t in sem if t.cascade),
            "paralinguistic_neutral_accuracy": _mean(t.neutral.accuracy for t in para if t.neutral),
            "paralinguistic_cascade_accuracy": _mean(t.cascade.accuracy for t in para if t.cascade),
        }

    def to_dict(self) -> dict:
        return {
            "bench": self.bench, "split": self.split, "text_system": self.text_system,
            "speech_system": self.speech_system, "cascade_system": self.cascade_system,
            "neutral_available": self.neutral_available, "seed": self.seed,
            "match_option_text": self.match_option_text,
            "semantic": [t.to_dict() for t in self.semantic],
            "paralinguistic": [t.to_dict() for t in self.paralinguistic],
            "open": [t.to_dict() for t in self.open],
            "bootstrap": self.bootstrap,
            "agreement_bootstrap": self.agreement_bootstrap,
            "average": self.averages(),
        }
