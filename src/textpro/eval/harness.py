"""The modality-gap harness: ask both sides, extract answers the same way, score per task.

For every multiple-choice item the text responder (the original text LLM) answers the text prompt and the speech
responder answers the audio; one extractor scores both. Gap = text accuracy − speech accuracy, in points.
Paralinguistic items are asked to the speech side only (a text LLM cannot hear a voice).

Responses go to a JSONL cache as soon as each batch is answered, keyed by (side, system, item id) and a
fingerprint of what was asked, so an interrupted run resumes without asking again, and a changed item is re-asked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from textpro.errors import ConfigError
from textpro.eval.bench import LABEL, MCQ, Item
from textpro.eval.extract import extract_choice, match_label, seeded_fallback
from textpro.eval.responders import AudioQuery, SpeechResponder, TextResponder

TEXT, SPEECH = "text", "speech"


# --------------------------------------------------------------------------------------------------------------------
# Response cache


def _fingerprint(item: Item, side: str) -> str:
    asked = item.prompt if side == TEXT else f"{item.audio_path}\n{item.instruction}"
    return hashlib.sha1(asked.encode("utf-8")).hexdigest()[:12]


class ResponseCache:
    """Append-only JSONL of responses. Later lines win, so re-asking an item simply appends."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self._responses: dict[tuple[str, str, str], tuple[str, str]] = {}
        if self.path and self.path.is_file():
            with self.path.open(encoding="utf-8") as lines:
                for line in lines:
                    try:
                        row = json.loads(line)
                        key = (row["side"], row["system"], row["id"])
                        self._responses[key] = (row["fingerprint"], row["response"])
                    except (json.JSONDecodeError, KeyError, TypeError):
                        continue  # a line cut short by an interruption: that item is asked again

    def get(self, side: str, system: str, item: Item) -> str | None:
        hit = self._responses.get((side, system, item.id))
        return hit[1] if hit and hit[0] == _fingerprint(item, side) else None

    def put_many(self, side: str, system: str, items: Sequence[Item], responses: Sequence[str]) -> None:
        rows = []
        for item, response in zip(items, responses, strict=True):
            fingerprint = _fingerprint(item, side)
            self._responses[(side, system, item.id)] = (fingerprint, response)
            rows.append({"side": side, "system": system, "id": item.id, "task": item.task,
                         "fingerprint": fingerprint, "response": response})
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def collect_responses(items: Sequence[Item], side: str, responder, cache: ResponseCache,
                      *, progress: bool = True) -> dict[str, str]:
    """Item id → response for every item, asking the responder only for those not in the cache."""
    responses = {}
    todo = []
    for item in items:
        cached = cache.get(side, responder.name, item)
        if cached is None:
            todo.append(item)
        else:
            responses[item.id] = cached
    batch_size = max(1, int(getattr(responder, "batch_size", 1)))
    with tqdm(total=len(items), initial=len(items) - len(todo), desc=f"{side}: {responder.name}", unit="item",
              disable=not progress, leave=False) as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            if side == TEXT:
                answers = responder.answer_text([item.prompt for item in batch])
            else:
                answers = responder.answer_audio([AudioQuery(item.audio_path, item.instruction) for item in batch])
            if len(answers) != len(batch):
                raise RuntimeError(f"{responder.name} returned {len(answers)} answers for {len(batch)} questions")
            cache.put_many(side, responder.name, batch, answers)
            responses.update((item.id, answer) for item, answer in zip(batch, answers, strict=True))
            bar.update(len(batch))
    return responses


# --------------------------------------------------------------------------------------------------------------------
# Scores


@dataclass
class SideScore:
    """One system on one task. Accuracies are percentages."""

    n: int = 0
    correct: int = 0  # extraction failures count as wrong
    correct_with_fallback: int = 0  # extraction failures replaced by a seeded random letter (VoiceBench-compatible)
    failed: int = 0

    @property
    def accuracy(self) -> float:
        return 100.0 * self.correct / self.n if self.n else float("nan")

    @property
    def accuracy_fallback(self) -> float:
        return 100.0 * self.correct_with_fallback / self.n if self.n else float("nan")

    @property
    def failure_pct(self) -> float:
        return 100.0 * self.failed / self.n if self.n else float("nan")

    def to_dict(self) -> dict:
        return {"n": self.n, "accuracy": self.accuracy, "accuracy_fallback": self.accuracy_fallback,
                "failure_pct": self.failure_pct, "correct": self.correct, "failed": self.failed}


@dataclass
class SemanticTask:
    task: str
    n: int
    text: SideScore | None
    speech: SideScore | None

    @property
    def gap(self) -> float | None:
        return self.text.accuracy - self.speech.accuracy if self.text and self.speech else None

    @property
    def gap_fallback(self) -> float | None:
        return self.text.accuracy_fallback - self.speech.accuracy_fallback if self.text and self.speech else None


@dataclass
class ParalinguisticTask:
    task: str
    n: int
    labels: tuple[str, ...]
    speech: SideScore

    @property
    def chance(self) -> float:
        return 100.0 / len(self.labels) if self.labels else float("nan")


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


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

    def averages(self) -> dict:
        """Plain means over tasks, as the paper averages over benchmarks."""
        sem = self.semantic
        return {
            "text_accuracy": _mean(t.text.accuracy for t in sem if t.text),
            "speech_accuracy": _mean(t.speech.accuracy for t in sem if t.speech),
            "gap": _mean(t.gap for t in sem),
            "gap_fallback": _mean(t.gap_fallback for t in sem),
            "text_failure_pct": _mean(t.text.failure_pct for t in sem if t.text),
            "speech_failure_pct": _mean(t.speech.failure_pct for t in sem if t.speech),
            "paralinguistic_accuracy": _mean(t.speech.accuracy for t in self.paralinguistic),
        }

    def to_dict(self) -> dict:
        return {
            "bench": self.bench, "split": self.split, "text_system": self.text_system,
            "speech_system": self.speech_system, "seed": self.seed, "match_option_text": self.match_option_text,
            "semantic": [{"task": t.task, "n": t.n, "text": t.text.to_dict() if t.text else None,
                          "speech": t.speech.to_dict() if t.speech else None, "gap": t.gap,
                          "gap_fallback": t.gap_fallback} for t in self.semantic],
            "paralinguistic": [{"task": t.task, "n": t.n, "labels": list(t.labels), "chance": t.chance,
                                "speech": t.speech.to_dict()} for t in self.paralinguistic],
            "average": self.averages(),
        }


def score_mcq(items: Sequence[Item], responses: dict[str, str], *, seed: int = 0,
              match_option_text: bool = False) -> SideScore:
    score = SideScore()
    for item in items:
        extraction = extract_choice(responses[item.id], item.letters, options=item.options,
                                    match_option_text=match_option_text)
        choice = extraction.choice
        score.n += 1
        score.correct += choice == item.reference
        if choice is None:
            score.failed += 1
            choice = seeded_fallback(item.id, item.letters, seed)
        score.correct_with_fallback += choice == item.reference
    return score


def score_labels(items: Sequence[Item], responses: dict[str, str], *, seed: int = 0) -> SideScore:
    score = SideScore()
    for item in items:
        label = match_label(responses[item.id], item.labels)
        score.n += 1
        score.correct += label == item.reference
        if label is None:
            score.failed += 1
            label = seeded_fallback(item.id, item.labels, seed) if item.labels else None
        score.correct_with_fallback += label == item.reference
    return score


# --------------------------------------------------------------------------------------------------------------------
# The run


def _by_task(items: Sequence[Item]) -> dict[str, list[Item]]:
    tasks: dict[str, list[Item]] = {}
    for item in items:
        tasks.setdefault(item.task, []).append(item)
    return tasks


def evaluate_items(items: Sequence[Item], text_responder: TextResponder | None,
                   speech_responder: SpeechResponder | None, *, bench: str = "", split: str = "",
                   cache_path: str | Path | None = None, seed: int = 0, match_option_text: bool = False,
                   progress: bool = True) -> EvalResult:
    """Score `items` with either or both responders (None skips that side)."""
    if speech_responder:
        silent = [item.id for item in items if item.audio_path is None]
        if silent:
            raise ConfigError(f"{len(silent)} items have no audio (first: {silent[0]}); use a text-only evaluation")
    cache = ResponseCache(cache_path)
    mcq = [item for item in items if item.kind == MCQ]
    labelled = [item for item in items if item.kind == LABEL]
    text = collect_responses(mcq, TEXT, text_responder, cache, progress=progress) if text_responder else {}
    speech = {}
    if speech_responder:
        speech = collect_responses(mcq + labelled, SPEECH, speech_responder, cache, progress=progress)

    result = EvalResult(bench=bench, split=split, seed=seed, match_option_text=match_option_text,
                        text_system=text_responder.name if text_responder else None,
                        speech_system=speech_responder.name if speech_responder else None)
    for task, task_items in _by_task(mcq).items():
        result.semantic.append(SemanticTask(
            task=task, n=len(task_items),
            text=score_mcq(task_items, text, seed=seed, match_option_text=match_option_text) if text_responder
            else None,
            speech=score_mcq(task_items, speech, seed=seed, match_option_text=match_option_text)
            if speech_responder else None,
        ))
    if speech_responder:
        for task, task_items in _by_task(labelled).items():
            labels = tuple(dict.fromkeys(label for item in task_items for label in item.labels))
            result.paralinguistic.append(ParalinguisticTask(task=task, n=len(task_items), labels=labels,
                                                            speech=score_labels(task_items, speech, seed=seed)))
    return result


def evaluate(bench_dir: str | Path, split: str, text_responder: TextResponder | None,
             speech_responder: SpeechResponder | None, *, out_dir: str | Path | None = None,
             limit: int | None = None, seed: int = 0, match_option_text: bool = False,
             progress: bool = True) -> EvalResult:
    """Evaluate a benchmark split; with `out_dir`, cache responses there and write results.json / results.md /
    results.png (see `textpro.eval.report`)."""
    from textpro.eval.bench import load_bench

    items = load_bench(bench_dir, split)
    return run_and_report(items, text_responder, speech_responder, bench=str(bench_dir), split=split,
                          out_dir=out_dir, limit=limit, seed=seed, match_option_text=match_option_text,
                          progress=progress)


def run_and_report(items: Sequence[Item], text_responder, speech_responder, *, bench: str, split: str,
                   out_dir: str | Path | None, limit: int | None = None, seed: int = 0,
                   match_option_text: bool = False, progress: bool = True) -> EvalResult:
    from textpro.eval.report import write_reports

    if limit is not None:
        items = limit_per_task(items, limit)
    cache_path = Path(out_dir) / "responses.jsonl" if out_dir else None
    result = evaluate_items(items, text_responder, speech_responder, bench=bench, split=split,
                            cache_path=cache_path, seed=seed, match_option_text=match_option_text,
                            progress=progress)
    if out_dir:
        write_reports(result, out_dir)
    return result


def limit_per_task(items: Sequence[Item], limit: int) -> list[Item]:
    """The first `limit` items of every task (so a quick run still covers every task)."""
    kept: dict[str, int] = {}
    out = []
    for item in items:
        if kept.get(item.task, 0) < limit:
            kept[item.task] = kept.get(item.task, 0) + 1
            out.append(item)
    return out
