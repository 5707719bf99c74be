"""What every importer shares: the import context, the manifest writer, the speaker-disjoint split, label tables.

A manifest is JSONL, one clip per line, read back by `textpro.slm.featurize.read_manifest` and the eval harness:

    id        unique within the manifest ("<kind>/<corpus's own utterance id>")
    audio     path of the clip, relative to the manifest's folder (the corpus's own file; synthesized or decoded
              clips are written under <manifest folder>/audio/<kind>/)
    text      what is said, where the corpus says it (transcript / sentence)
    speaker   the corpus's speaker id, prefixed with the kind (the unit of the train/dev/test split)
    split     train / dev / test (speaker-disjoint, see `speaker_split`) or the corpus's own official split
    source    the kind
    gender, accent, age, emotion          the corpus's labels mapped to our vocabulary (absent when unknown),
    <label>_raw                           beside each, the corpus's own value
    task, reference                       the paralinguistic task this clip trains or tests and its label
                                          (`textpro.slm.tasks` reads these); multiple choice: task, prompt
                                          (question and lettered options), reference (the letter)
    instruction, labels                   evaluation records of a label task: the question asked about the audio
                                          and the label set (`textpro.eval.bench`)
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from textpro.data.jsonl import parse_jsonl
from textpro.errors import DataError

SPLITS = ("train", "dev", "test")

# Our emotion vocabulary: adjectives, as the mini world's style labels ("neutral", "happy", "sad", "angry").
EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgusted", "surprised", "frustrated", "excited",
            "other")
GENDERS = ("male", "female")
# The label sets a record may train (its `task` and `reference` are set only for these; the label itself is always
# kept in its own field). `textpro.slm.tasks` refuses a reference outside the config's set, so these are exactly
# configs/paper-7b.yaml's `paralinguistic.labels` (tests/test_importers.py checks it).
TRAIN_LABELS: dict[str, tuple[str, ...]] = {
    "emotion": ("neutral", "happy", "sad", "angry", "surprised", "fearful", "disgusted"),
    "gender": GENDERS,
    "age": ("teens", "twenties", "thirties", "forties", "fifties", "sixties", "seventies", "eighties", "nineties"),
    "accent": ("american", "british", "canadian", "australian", "indian", "scottish", "irish", "welsh",
               "northern irish", "south african", "new zealand", "filipino", "hong kong", "malaysian", "singaporean",
               "caribbean", "south atlantic"),
}


def train_task(task: str, label: str | None) -> dict:
    """{"task", "reference"} when `label` is in the task's training label set, else {} (not a training example)."""
    return {"task": task, "reference": label} if label in TRAIN_LABELS[task] else {}


@dataclass
class ImportContext:
    """Where and how one import runs (filled by `import_dataset` from the command line)."""

    source: Path  # the dataset folder, as its release lays it out
    out: Path  # the manifest being written
    kind: str
    seed: int = 0  # of the speaker split
    dev_fraction: float = 0.1
    test_fraction: float = 0.1
    limit: int | None = None  # at most this many records (text→speech kinds: clips synthesized)
    voice: str | None = None  # text→speech kinds: TTS voice ("espeak:american+m3", "piper"); None: a rotation
    options: dict = field(default_factory=dict)  # kind-specific (e.g. voxeval timbre, ultrachat max_words)

    @property
    def audio_dir(self) -> Path:
        """Where clips this import creates (TTS, decoded HF audio) go."""
        return self.out.parent / "audio" / self.kind

    def relative(self, path: str | os.PathLike) -> str:
        """`path` as the manifest stores it: relative to the manifest's folder (string arithmetic only: no file
        system call per clip, a million-clip corpus imports in seconds)."""
        return os.path.relpath(os.path.abspath(path), os.path.abspath(self.out.parent))


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise DataError(f"{what}: no folder {path}")
    return path


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DataError(f"{what}: no file {path}")
    return path


def read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, row in parse_jsonl(read_lines(path), path, DataError):
        if not isinstance(row, dict):
            raise DataError(f"{path}:{number}: expected a JSON object")
        rows.append(row)
    return rows


def speaker_split(records: list[dict], *, dev_fraction: float = 0.1, test_fraction: float = 0.1,
                  seed: int = 0) -> list[dict]:
    """Set each record's `split` so that no speaker is in two splits.

    Speakers (sorted, then shuffled by `seed`) are dealt into test, dev and train by count: round(fraction × number
    of speakers) each, at least one test speaker when there are two or more and at least one dev speaker when
    there are three or more (and the fraction is not 0). Records without a speaker count as a speaker of their own.
    The same speakers and seed always give the same split, whatever the record order.
    """
    import numpy as np

    if not (0 <= dev_fraction < 1 and 0 <= test_fraction < 1 and dev_fraction + test_fraction < 1):
        raise DataError(f"split fractions must be in [0, 1) with dev + test < 1, got {dev_fraction}, {test_fraction}")
    speakers = sorted({r.get("speaker") or r["id"] for r in records})
    order = [speakers[i] for i in np.random.default_rng([seed, 104729]).permutation(len(speakers))]
    n = len(order)
    n_test = round(test_fraction * n) or (1 if n >= 2 and test_fraction > 0 else 0)
    n_dev = round(dev_fraction * n) or (1 if n >= 3 and dev_fraction > 0 else 0)
    n_test, n_dev = min(n_test, max(n - 1, 0)), min(n_dev, max(n - 1 - n_test, 0))
    split_of = {s: "test" for s in order[:n_test]}
    split_of.update({s: "dev" for s in order[n_test:n_test + n_dev]})
    for record in records:
        record["split"] = split_of.get(record.get("speaker") or record["id"], "train")
    return records


def check_speaker_disjoint(records: Iterable[dict]) -> None:
    """DataError when a speaker has records in two splits."""
    seen: dict[str, str] = {}
    for r in records:
        speaker = r.get("speaker")
        if speaker is None:
            continue
        if seen.setdefault(speaker, r["split"]) != r["split"]:
            raise DataError(f"speaker {speaker} is in both {seen[speaker]} and {r['split']}")


def write_manifest(records: list[dict], out: str | os.PathLike) -> Path:
    """Write `records` as JSONL (tmp file, then rename: a manifest is never half written)."""
    out = Path(out)
    if not records:
        raise DataError(f"nothing to write to {out}: no records found")
    ids = set()
    for r in records:
        if r["id"] in ids:
            raise DataError(f"duplicate record id {r['id']!r}")
        ids.add(r["id"])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({k: v for k, v in r.items() if v is not None}, ensure_ascii=False) + "\n")
    tmp.replace(out)
    return out


def stable_choice(key: str, items: list | tuple):
    """One of `items`, the same for the same key (crc32: stable across processes, unlike hash())."""
    return items[zlib.crc32(key.encode()) % len(items)]


def label_instruction(task: str, labels: list[str]) -> str:
    """The question an evaluation record asks about its audio."""
    options = ", ".join(labels[:-1]) + f" or {labels[-1]}" if len(labels) > 1 else labels[0]
    if task == "emotion":
        return f"What emotion does the speaker's voice express: {options}?"
    if task == "accent":
        return f"Which accent does the speaker have: {options}?"
    if task == "gender":
        return "What is the speaker's gender? Answer male or female."
    if task == "age":
        return f"How old does the speaker sound: {options}?"
    return f"Which {task} is it: {options}?"
