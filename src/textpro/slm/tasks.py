"""Training examples for TextPro-SLM from a feature cache: distillation targets and paralinguistic tasks, mixed.

    distillation    (speech, None, teacher's answer to the transcript)       semantic preservation (docs/method.md)
    paralinguistic  (speech, "Is the speaker male or female?", "female")      instruction → label text

A feature record is a paralinguistic example when its manifest record's `task` is one of the configured tasks; its
label is the record's `reference` (it must be in the task's label set) and its instruction the record's own
`prompt`, else one of the configured prompts (fixed per record id). The mini world's manifests are written that way;
defaults come from `textpro.data.paralinguistic`. The two kinds are mixed at `ratio` (the share of paralinguistic
examples), repeating or subsampling paralinguistic examples deterministically from the seed.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from textpro.data import paralinguistic
from textpro.data.labels import match_label  # the one matcher training and evaluation share
from textpro.errors import ConfigError


@dataclass
class ParalinguisticConfig:
    # task name → label set. A record whose manifest `task` is not a key here is not a paralinguistic example.
    labels: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in paralinguistic.LABELS.items()})
    # task name → instruction phrasings, for records that carry no prompt of their own
    prompts: dict[str, list[str]] = field(
        default_factory=lambda: {k: list(v) for k, v in paralinguistic.PROMPTS.items()})
    # share of paralinguistic examples in the training mix (0–1); None = every example of both kinds, once each
    ratio: float | None = None
    task_field: str = "task"  # manifest field naming the task
    label_field: str = "reference"  # manifest field holding the label
    prompt_field: str = "prompt"  # manifest field holding the instruction (optional per record)
    target_field: str = "target"  # manifest field holding the answer to that instruction (optional; else the label)
    # Tasks also asked about the clips of no paralinguistic task (spoken questions) whose manifest record has a valid
    # label in a field named like the task (the mini world's records all carry "gender" and "accent"): a spoken
    # question has a speaker too. Without them, the model answers "Is the speaker male or female?" about a spoken
    # multiple-choice question in the question's format ("male (A)"). Asking them about *every* clip instead tripled
    # the speaker-label share of stage 1 and took rate from 83% to 27% on test (results/recipe-mini.md).
    every_clip: list[str] = field(default_factory=lambda: ["gender", "accent"])
    # Draw every task equally often (each repeated, in fresh shuffles, up to the largest task's count) instead of
    # once per record: with `every_clip`, gender and accent otherwise outnumber pitch, rate and style 5 to 1.
    balance_tasks: bool = False
    # Tasks whose labels are drawn equally often within the task's share (with balance_tasks): 38% of the mini world's
    # accent rows say "american" (piper, festival and their converted clips are American voices). Session 20: balanced,
    # the model still answers "american" to ~70% of dev accent clips; its accent answer ignores the clip.
    balance_labels: list[str] = field(default_factory=list)
    # With balance_tasks: task → relative share of the paralinguistic rows (absent tasks 1.0), e.g. {accent: 3.0} draws
    # accent three times as often as each other task. Session 20: a continuation's ~200 accent rows never taught the
    # LLM which accent a clip has; this buys more accent rows without more steps (session 48: accent x3 in the
    # default's projector step, dev accent 28.7 -> 29.2: the projector does not write accent; results/robust-hearing.md)
    task_weights: dict[str, float] = field(default_factory=dict)
    # Each repetition of a record asks a freshly drawn train phrasing of its task (`data.paralinguistic`), with that
    # phrasing's answer ("Male, so no."), so that a clip is heard under many phrasings. Tasks without phrasings keep
    # the record's own instruction.
    resample_phrasings: bool = False
    # With resample_phrasings: the share of yes/no questions that ask about the clip's own label. 0.5 (as the data
    # generator asks) lets a model that names the label in the question be right half the time; null: 1/len(labels),
    # so that the question holds no hint (session 10: on dev_unseen the default named the asked label on 7 of 16
    # pitch and 11 of 18 rate yes/no questions about another label, and was right on every one about the own label).
    yes_no_own_share: float | None = 0.5

    def __post_init__(self):
        if self.yes_no_own_share is not None and not 0.0 <= float(self.yes_no_own_share) <= 1.0:
            raise ConfigError(f"paralinguistic.yes_no_own_share must be between 0 and 1 (or null), "
                              f"got {self.yes_no_own_share}")
        if self.ratio is not None and not 0.0 <= float(self.ratio) <= 1.0:
            raise ConfigError(f"paralinguistic.ratio must be between 0 and 1 (or null), got {self.ratio}")
        for task, labels in self.labels.items():
            if not labels or not all(isinstance(x, str) and x for x in labels):
                raise ConfigError(f"paralinguistic.labels.{task}: expected a list of label strings")
        for name, tasks, what in (("balance_labels", self.balance_labels, "it balances labels within a task's share"),
                                  ("task_weights", self.task_weights, "it weighs the tasks' shares")):
            if tasks and not self.balance_tasks:
                raise ConfigError(f"paralinguistic.{name} needs balance_tasks: true ({what})")
            unknown = sorted(set(tasks) - set(self.labels))
            if unknown:
                raise ConfigError(f"paralinguistic.{name}: {unknown} not among the tasks {sorted(self.labels)}")
        if not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0
                   for w in self.task_weights.values()):
            raise ConfigError(f"paralinguistic.task_weights must be positive numbers, got {self.task_weights}")


@dataclass(frozen=True)
class Example:
    """One training example: a feature record (by store and position) plus what the model reads and answers."""

    store: int  # which feature store of the config's list
    index: int  # record position in that store
    instruction: str | None  # None: the speech is the whole question (distillation)
    response: str  # the target text: teacher answer or label
    kind: str  # "distill" or the paralinguistic task name
    label: str | None = None  # paralinguistic: the true label (the response may say it in a sentence)
    text: str | None = None  # a written prompt read in place of the record's transcript (`written_examples`)
    ce: bool = True  # False: only the KL term reads this row (its response is the student's own answer: `on_policy`)


def paralinguistic_examples(stores: list, config: ParalinguisticConfig) -> list[Example]:
    examples = []
    for s, store in enumerate(stores):
        for i, entry in enumerate(store.index):
            manifest = entry.get("manifest", {})
            task = manifest.get(config.task_field)
            for other in config.every_clip if task not in config.labels else ():  # a spoken question's speaker
                label = manifest.get(other)
                if other in config.labels and label in config.labels[other]:
                    prompts = config.prompts[other]
                    instruction = prompts[zlib.crc32(f"{entry['id']}/{other}".encode()) % len(prompts)]
                    examples.append(Example(s, i, instruction, label, other, label))
            if task not in config.labels:
                continue
            label = manifest.get(config.label_field)
            if label not in config.labels[task]:
                raise ConfigError(f"{store.directory} record {entry['id']!r}: label {label!r} is not in the "
                                  f"{task} label set {config.labels[task]}")
            instruction = manifest.get(config.prompt_field)
            if not isinstance(instruction, str) or not instruction.strip():
                prompts = config.prompts.get(task)
                if not prompts:
                    raise ConfigError(f"task {task!r}: record {entry['id']!r} has no prompt and none is configured")
                instruction = prompts[zlib.crc32(entry["id"].encode()) % len(prompts)]
            # the answer to learn: the record's own (e.g. "Male, so no." to a yes/no phrasing), else the label
            target = manifest.get(config.target_field) if isinstance(manifest.get(config.prompt_field), str) else None
            response = target if isinstance(target, str) and target else label
            examples.append(Example(s, i, instruction, response, task, label))
    return examples


def read_distillation(path: str | os.PathLike) -> list[dict]:
    """The records written by `textpro distill` (id, response, …)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError as exc:
        raise ConfigError(f"cannot read distillation data {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSONL ({exc.msg})") from None


def distillation_examples(stores: list, path: str | os.PathLike, ce: bool = True) -> list[Example]:
    """Teacher answers (or, with ce False, the student's own: `on_policy`), matched to feature records by id (ids
    must be unique over the stores)."""
    where: dict[str, tuple[int, int]] = {}
    for s, store in enumerate(stores):
        for record_id, i in store.by_id.items():
            if record_id in where:
                raise ConfigError(f"record id {record_id!r} is in two feature caches: ids must be unique")
            where[record_id] = (s, i)
    examples = []
    for record in read_distillation(path):
        clip = record.get("clip", record.get("id"))  # `clip`: a written prompt read around that clip's prosody
        if clip not in where:
            raise ConfigError(f"{path}: record id {clip!r} is in none of the feature caches")
        s, i = where[clip]
        text = record["question"] if "clip" in record else None
        examples.append(Example(s, i, record.get("instruction"), record["response"], "distill", text=text, ce=ce))
    return examples


def written_examples(stores: list, path: str | os.PathLike, seed: int) -> list[Example]:
    """Teacher answers to written prompts (`textpro distill --prompts`), each read as the transcript of a clip drawn
    at random (seeded) from the stores: that clip gives the row its prosody, its own words are not read."""
    clips = [(s, i) for s, store in enumerate(stores) for i in range(len(store))]
    if not clips:
        raise ConfigError("text_distill needs feature records to borrow prosody from: the feature caches are empty")
    rng = np.random.default_rng([seed, 4])
    examples = []
    for record in read_distillation(path):
        if not isinstance(record.get("question"), str) or not isinstance(record.get("response"), str):
            raise ConfigError(f"{path}: record {record.get('id')!r} has no question and response text")
        s, i = clips[int(rng.integers(len(clips)))]
        examples.append(Example(s, i, None, record["response"], "distill", text=record["question"]))
    return examples


def mix(distill: list[Example], paralinguistic: list[Example], ratio: float | None, seed: int,
        balance_tasks: bool = False, resample_phrasings: bool = False, yes_no_own_share: float | None = 0.5,
        balance_labels: tuple[str, ...] = (), task_weights: dict[str, float] | None = None) -> list[Example]:
    """Distillation + paralinguistic examples with `ratio` of the result paralinguistic (None: all of both).
    Paralinguistic examples are repeated (in fresh shuffles) or subsampled to the count; same seed, same list.
    `balance_tasks`: every task contributes the same count (None: the largest task's size, per task), and within a
    task of `balance_labels` every label the same share of it; `task_weights` (with balance_tasks) scales a task's
    count by its weight over the mean weight (absent tasks 1.0), the total unchanged;
    `resample_phrasings`: each drawn example asks a fresh train phrasing of its task, a yes/no one about the clip's
    own label `yes_no_own_share` of the time (None: 1/len(labels))."""
    rng = np.random.default_rng(seed)
    if not paralinguistic or (ratio is not None and ratio <= 0.0):
        return list(distill)
    if ratio is None or ratio >= 1.0 or not distill:
        count = None
    else:
        count = round(ratio / (1.0 - ratio) * len(distill))
    if balance_tasks:
        by_task: dict[str, list[Example]] = {}
        for e in paralinguistic:
            by_task.setdefault(e.kind, []).append(e)
        per_task = max(len(v) for v in by_task.values()) if count is None else -(-count // len(by_task))
        weights = {task: (task_weights or {}).get(task, 1.0) for task in by_task}
        mean_weight = sum(weights.values()) / len(weights)
        counts = {task: round(per_task * weights[task] / mean_weight) for task in by_task}
        drawn = [e for task in sorted(by_task)
                 for e in (_repeat_by_label(by_task[task], counts[task], rng) if task in balance_labels
                           else _repeat(by_task[task], counts[task], rng))]
        drawn = [drawn[i] for i in rng.permutation(len(drawn))][:count]
    elif count is None:
        drawn = list(paralinguistic)
    else:
        drawn = _repeat(paralinguistic, count, rng)
    if resample_phrasings:
        drawn = [_rephrase(e, rng, yes_no_own_share) for e in drawn]
    if ratio is not None and ratio >= 1.0:
        return drawn
    return list(distill) + drawn


def _repeat(examples: list[Example], count: int, rng) -> list[Example]:
    """`count` examples: whole fresh shuffles of `examples`, the last one cut."""
    order: list[int] = []
    while len(order) < count:
        order += rng.permutation(len(examples)).tolist()
    return [examples[i] for i in order[:count]]


def _repeat_by_label(examples: list[Example], count: int, rng) -> list[Example]:
    """`count` examples, each label present drawn equally often (`_repeat` within each label), in one shuffle."""
    by_label: dict[str, list[Example]] = {}
    for e in examples:
        by_label.setdefault(e.label or e.response, []).append(e)
    per_label = -(-count // len(by_label))
    drawn = [e for label in sorted(by_label) for e in _repeat(by_label[label], per_label, rng)]
    return [drawn[i] for i in rng.permutation(len(drawn))][:count]


def _rephrase(example: Example, rng, yes_no_own_share: float | None = 0.5) -> Example:
    """The example asked with a freshly drawn train phrasing of its task (and that phrasing's answer)."""
    label = example.label or example.response
    if example.kind not in paralinguistic.PHRASINGS or label not in paralinguistic.LABELS.get(example.kind, ()):
        return example
    labels = paralinguistic.LABELS[example.kind]
    own = 1.0 / len(labels) if yes_no_own_share is None else yes_no_own_share
    phrasing = paralinguistic.choose_phrasing(example.kind, "train", label, rng, own_share=own)
    return Example(example.store, example.index, phrasing.text, phrasing.target(label), example.kind, label)


# ---- scoring ----------------------------------------------------------------------------------------------------

def paralinguistic_accuracy(model, store, config: ParalinguisticConfig | None = None, batch_size: int = 8,
                            max_new_tokens: int = 8, limit: int | None = None) -> dict:
    """Accuracy per task (and "mean" over tasks) of `model` (a TextProSLM) on the paralinguistic records of a
    feature store, greedy decoding; the answer's first-named label is its prediction."""
    config = config or ParalinguisticConfig()
    examples = paralinguistic_examples([store], config)[:limit]
    correct: dict[str, list[bool]] = {}
    for first in range(0, len(examples), batch_size):
        batch = examples[first:first + batch_size]
        answers = model.generate([(store[e.index], e.instruction) for e in batch], max_new_tokens=max_new_tokens)
        for e, answer in zip(batch, answers, strict=True):
            correct.setdefault(e.kind, []).append(match_label(answer, config.labels[e.kind]) == (e.label or e.response))
    scores = {task: float(np.mean(hits)) for task, hits in sorted(correct.items())}
    if scores:
        scores["mean"] = float(np.mean(list(scores.values())))
    return scores
