"""Benchmark items: one JSONL per split, VoiceBench-like, read into `Item`s the harness can score.

A record has `audio` (path relative to the JSONL), `prompt` (the text version of the question; for multiple
choice it lists the options), `reference` (the gold letter, or a label), `task`, and whatever parameters generated
it. Paralinguistic records also carry the question to ask about the audio (`instruction`, or `question`) and may
declare their label set (`labels`); otherwise the label set is every reference seen for that task in the split.
Optional fields the diagnostics read: `text` (what was said), `voice`, `phrasing_form` (direct, open, yes_no,
two_way), `yes_label` (for yes/no questions, the label a "yes" means; else the label the instruction names) and
`phrasing_seen`. Open-ended requests (task `request`, or `reference` null) are answered by both sides and compared
with each other, not with a reference. Pairs (`kind` "pair": spoken StoryCloze, `data.importers.evalsets`) hold two
clips, `options_audio` {A, B}, each a whole story with one of two endings, optionally their `options_text`, and the
correct letter: scored by likelihood, not by an answer (`textpro.eval.pairs`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from textpro.data.labels import match_label
from textpro.errors import ConfigError
from textpro.eval.extract import option_letters, parse_options

MCQ = "mcq"
LABEL = "label"
OPEN = "open"
PAIR = "pair"
OPEN_TASKS = ("request",)


@dataclass(frozen=True)
class Item:
    """One question of a benchmark, as both sides of the comparison see it."""

    id: str
    task: str
    kind: str  # MCQ: scored by option letter, asked as text and as speech; LABEL: paralinguistic, speech only;
    # OPEN: compared with the text LLM's answer; PAIR: the likelier of two endings (eval.pairs)
    prompt: str  # the text version given to the text LLM
    reference: str  # gold letter (lowercase) or label
    audio_path: Path | None = None  # the spoken version
    instruction: str | None = None  # text sent alongside the audio (None: the audio is the whole question)
    letters: str = ""  # valid option letters for MCQ ("abcd")
    labels: tuple[str, ...] = ()  # label set for LABEL items
    options: dict[str, str] = field(default_factory=dict, compare=False)  # letter → option text, when parseable
    text: str | None = None  # the words spoken (ground truth), when the record has them
    voice: str | None = None  # the speaker (voice) of the clip
    phrasing_form: str | None = None  # how a paralinguistic question is phrased: direct, open, yes_no, two_way
    yes_label: str | None = None  # yes/no questions: the label that "yes" means
    phrasing_seen: bool | None = None  # whether training saw this phrasing (None: unknown)
    option_audio: dict[str, Path] = field(default_factory=dict, compare=False)  # PAIR: letter → clip


def _is_open(record: dict) -> bool:
    if record.get("kind") == OPEN:
        return True
    return str(record.get("task", "")) in OPEN_TASKS or ("reference" in record and record["reference"] is None)


def _is_mcq(record: dict) -> bool:
    if _is_open(record):
        return False
    if record.get("kind") in (MCQ, LABEL):
        return record["kind"] == MCQ
    task = str(record.get("task", ""))
    if task.startswith("mcq") or task in ("openbookqa", "mmsu"):
        return True
    reference = str(record.get("reference", ""))
    return len(reference) == 1 and reference.isalpha() and bool(parse_options(str(record.get("prompt", ""))))


def items_from_records(records: Iterable[dict], *, base_dir: Path | None = None, id_prefix: str = "") -> list[Item]:
    """Turn raw records into Items. Label sets not declared on a record are collected per task across records."""
    records = list(records)
    seen_labels: dict[str, set[str]] = {}
    for record in records:
        if record.get("kind") != PAIR and not _is_mcq(record) and not _is_open(record):
            seen_labels.setdefault(str(record.get("task", "label")), set()).add(str(record.get("reference")))

    items = []
    for index, record in enumerate(records):
        if record.get("kind") == PAIR:  # spoken StoryCloze's two clips (importers/evalsets.py): not a label item
            items.append(_pair_item(record, index, base_dir, id_prefix))
            continue
        if ("reference" not in record and not _is_open(record)) or (
                (_is_mcq(record) or _is_open(record)) and "prompt" not in record):
            raise ConfigError(f"benchmark record {index} needs 'reference' (and 'prompt' for multiple choice "
                              "and requests)")
        item_id = str(record.get("id", f"{id_prefix}{index}"))
        audio = record.get("audio")
        audio_path = None
        if isinstance(audio, str | Path):
            audio_path = Path(audio) if base_dir is None or Path(audio).is_absolute() else base_dir / audio
        task = str(record.get("task", "mcq"))
        prompt = str(record.get("prompt", ""))
        extra = _diagnostic_fields(record)
        if _is_open(record):
            items.append(Item(id=item_id, task=task, kind=OPEN, prompt=prompt, reference="", audio_path=audio_path,
                              instruction=record.get("instruction"), **extra))
        elif _is_mcq(record):
            reference = str(record["reference"]).strip().lower()
            items.append(Item(
                id=item_id, task=task, kind=MCQ, prompt=prompt, reference=reference, audio_path=audio_path,
                instruction=record.get("instruction"), letters=option_letters(prompt, reference),
                options=parse_options(prompt), **extra,
            ))
        else:
            declared = record.get("labels")
            labels = tuple(declared) if declared else tuple(sorted(seen_labels[task]))
            instruction = record.get("instruction") or record.get("question") or prompt or None
            if extra["phrasing_form"] == "yes_no" and not extra["yes_label"]:
                extra["yes_label"] = match_label(instruction or "", labels)
            items.append(Item(
                id=item_id, task=task, kind=LABEL, prompt=prompt, reference=str(record["reference"]),
                audio_path=audio_path, instruction=instruction, labels=labels, **extra,
            ))
    return items


def _pair_item(record: dict, index: int, base_dir: Path | None, id_prefix: str) -> Item:
    """A spoken StoryCloze record: two clips (and their texts, when given) and the correct letter."""
    clips, texts = record.get("options_audio"), record.get("options_text")
    reference = str(record.get("reference", "")).strip().lower()
    if not isinstance(clips, dict) or sorted(k.lower() for k in clips) != ["a", "b"] or reference not in ("a", "b"):
        raise ConfigError(f"benchmark record {index} of kind 'pair' needs options_audio {{A, B}} and reference A or B")
    if texts is not None and (not isinstance(texts, dict) or sorted(k.lower() for k in texts) != ["a", "b"]):
        raise ConfigError(f"benchmark record {index} of kind 'pair': options_text must hold A and B")
    paths = {k.lower(): Path(v) if base_dir is None or Path(v).is_absolute() else base_dir / v
             for k, v in clips.items()}
    options = {k.lower(): str(v) for k, v in (texts or {}).items()}
    return Item(id=str(record.get("id", f"{id_prefix}{index}")), task=str(record.get("task", "pair")), kind=PAIR,
                prompt="\n".join(f"{k.upper()}. {options[k]}" for k in sorted(options)), reference=reference,
                audio_path=paths["a"], letters="ab", options=options, option_audio=paths,
                **_diagnostic_fields(record))


def _diagnostic_fields(record: dict) -> dict:
    def text(key):
        value = record.get(key)
        return str(value) if value is not None else None

    seen = record.get("phrasing_seen")
    return {"text": text("text"), "voice": text("voice"), "phrasing_form": text("phrasing_form"),
            "yes_label": text("yes_label"), "phrasing_seen": bool(seen) if seen is not None else None}


def load_bench(bench_dir: str | Path, split: str = "test") -> list[Item]:
    """The items of `<bench_dir>/<split>.jsonl`."""
    path = Path(bench_dir) / f"{split}.jsonl"
    if not path.is_file():
        available = sorted(p.stem for p in Path(bench_dir).glob("*.jsonl")) if Path(bench_dir).is_dir() else []
        hint = f" (splits here: {', '.join(available)})" if available else ""
        raise ConfigError(f"no benchmark split {path}{hint}")
    records = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: not JSON ({exc.msg})") from None
    return items_from_records(records, base_dir=path.parent, id_prefix=f"{split}:")
