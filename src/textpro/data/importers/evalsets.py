"""Evaluation sets of the paper's tables that ship their own audio: VoxEval (Table 4), VoiceBench (MMSU, OBQA …),
Spoken StoryCloze (Table 3's sSC, and tSC), the Common Voice accent test (Table 5) and RAVDESS emotion (the SER
probe). Records follow `textpro.eval.bench`: multiple choice as task, prompt, reference (letter); label tasks with
instruction, labels and reference. Spoken StoryCloze's spoken pairs are kind "pair" (`import_spoken_storycloze`),
which `textpro eval` scores by likelihood (`textpro.eval.pairs`)."""

from __future__ import annotations

import csv
import re
from itertools import pairwise
from pathlib import Path

from textpro.data.importers.common import (
    ImportContext,
    label_instruction,
    read_lines,
    require_dir,
    stable_choice,
)
from textpro.data.importers.emotion import RAVDESS_EMOTIONS, import_ravdess
from textpro.data.importers.speech import import_commonvoice
from textpro.errors import DataError

VOXEVAL_MATH = ("elementary_mathematics_4o", "high_school_mathematics_4o", "college_mathematics_4o")


def import_voxeval(ctx: ImportContext) -> list[dict]:
    """VoxEval (github.com/dreamtheater123/VoxEval, huggingface.co/datasets/qqjz/VoxEval): test/<subject>_4o.csv
    (no header: question, A, B, C, D, answer) and test/<timbre>/<subject>_4o/<%08d>_question.mp3 for row i.
    Options: timbre (default alloy; echo, fable, nova, onyx, shimmer, alloy_noise …), subjects (comma-separated,
    or "math" for the paper's Table 4: elementary, high school and college mathematics; default all)."""
    root = require_dir(ctx.source, "voxeval")
    test = root / "test" if (root / "test").is_dir() else root
    timbre = ctx.options.get("timbre", "alloy")
    require_dir(test / timbre, f"voxeval timbre {timbre!r}")
    subjects = ctx.options.get("subjects")
    subjects = VOXEVAL_MATH if subjects == "math" else tuple(subjects.split(",")) if subjects else None
    csvs = sorted(test.glob("*.csv"))
    if not csvs:
        raise DataError(f"voxeval: no <subject>.csv under {test}")
    records = []
    for path in csvs:
        if subjects and path.stem not in subjects:
            continue
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        for index, row in enumerate(rows):
            if len(row) < 6 or row[5].strip().upper() not in ("A", "B", "C", "D"):
                raise DataError(f"{path}:{index + 1}: expected question, A, B, C, D, answer letter")
            audio = test / timbre / path.stem / f"{index:08d}_question.mp3"
            if not audio.is_file():
                continue  # the release lacks a few clips; its own evaluation skips them too
            question, choices = row[0], row[1:5]
            records.append({
                "id": f"voxeval/{timbre}/{path.stem}/{index}", "audio": ctx.relative(audio),
                "task": path.stem.removesuffix("_4o"), "kind": "mcq",
                "prompt": question + "\n" + "\n".join(f"{k}. {c}" for k, c in zip("ABCD", choices, strict=True)),
                "reference": row[5].strip().upper(), "voice": timbre, "split": "test", "source": "voxeval"})
    if not records:
        raise DataError(f"voxeval: no questions with audio for timbre {timbre!r} under {test}")
    return records


def import_voicebench(ctx: ImportContext) -> list[dict]:
    """VoiceBench (huggingface.co/datasets/hlt-lab/voicebench) from a local copy: <subset>/<split>-*.parquet (or a
    save_to_disk folder / JSONL), read by `textpro.data.voicebench.load_voicebench`; every subset found, or option
    subsets=openbookqa,mmsu. MMSU is all of its per-domain splits (<domain>-00000-of-00001.parquet), each record
    split "test" with its `domain`. Audio is decoded into <manifest folder>/audio/voicebench/."""
    from textpro.data.voicebench import ALL_SPLITS_SUBSETS, MCQ_SUBSETS, load_voicebench
    from textpro.errors import ConfigError

    root = require_dir(ctx.source, "voicebench")
    wanted = ctx.options.get("subsets")
    subsets = wanted.split(",") if wanted else sorted(p.name for p in root.iterdir() if p.is_dir())
    records = []
    for subset in subsets:
        try:
            for record in load_voicebench(root, subset, split=ctx.options.get("split", "test"),
                                          audio_dir=ctx.audio_dir):
                record["audio"] = ctx.relative(record["audio"])
                record["kind"] = "mcq" if subset in MCQ_SUBSETS else "open"
                if subset in ALL_SPLITS_SUBSETS:  # MMSU's splits are its domains: all of them are the test set
                    record["domain"], record["split"] = record["split"], "test"
                record["id"] = f"voicebench/{record['id']}"
                record["source"] = "voicebench"
                records.append(record)
        except ConfigError as exc:
            raise DataError(str(exc)) from None
    if not records:
        raise DataError(f"voicebench: no subsets under {root}")
    return records[:ctx.limit]


SPOKEN_STORYCLOZE = {"sSC": "sstorycloze", "tSC": "tstorycloze"}
_CLIP_NUMBER = re.compile(r"^(?P<n>\d+)_")
_MARKED = re.compile(r"^(?P<base>.+)_(?P<mark>correct|incorrect)$")


def _storycloze_pairs(folder: Path) -> list[tuple[int, Path, Path]]:
    """(number, correct clip, incorrect clip) of one sSC/tSC folder. The lab's own scorer (slp-rl/slamkit,
    slamkit/metric/modelling_metric.py, ModellingMetricDataset) sorts the folder's <n>_….wav by the number before
    the first "_" and takes clips 2i and 2i+1 as (correct, incorrect); names ending _correct / _incorrect (the same
    lab's convention in slamkit/metric/cross_modal_metric.py) are paired by the rest of the name instead."""
    wavs = sorted(folder.glob("*.wav"))
    numbered = []
    for wav in wavs:
        match = _CLIP_NUMBER.match(wav.name)
        if not match:
            raise DataError(f"spoken-storycloze: {wav.name} in {folder.name}/ is not <n>_….wav")
        numbered.append((int(match["n"]), wav))
    if any(_MARKED.match(wav.stem) for wav in wavs):
        groups: dict[str, dict[str, Path]] = {}
        for _, wav in numbered:
            match = _MARKED.match(wav.stem)
            if not match:
                raise DataError(f"spoken-storycloze: {folder.name}/{wav.name} lacks the _correct/_incorrect ending "
                                "its neighbours have")
            groups.setdefault(match["base"], {})[match["mark"]] = wav
        pairs = []
        for base, pair in groups.items():
            if set(pair) != {"correct", "incorrect"}:
                missing = ({"correct", "incorrect"} - set(pair)).pop()
                raise DataError(f"spoken-storycloze: {folder.name}/{base}_{missing}.wav is missing")
            pairs.append((int(_CLIP_NUMBER.match(base + "_")["n"]), pair["correct"], pair["incorrect"]))
        return sorted(pairs, key=lambda p: (p[0], p[1].name))
    numbered.sort(key=lambda item: item[0])
    for (a, first), (b, second) in pairwise(numbered):
        if a == b:
            raise DataError(f"spoken-storycloze: {folder.name}/{first.name} and {second.name} share the number {a}: "
                            "their order (which ending is correct) is undefined")
    if len(numbered) % 2:
        raise DataError(f"spoken-storycloze: {len(numbered)} clips in {folder.name}/, expected correct/incorrect pairs")
    return [(numbered[i][0], numbered[i][1], numbered[i + 1][1]) for i in range(0, len(numbered), 2)]


def import_spoken_storycloze(ctx: ImportContext) -> list[dict]:
    """Spoken StoryCloze (github.com/slp-rl/SpokenStoryCloze; Hassid et al. 2023, TWIST): the sStoryCloze and
    tStoryCloze downloads, folders sSC/ and tSC/ of wav files, each a whole story (four sentences and an ending)
    spoken by one TTS voice, one clip with the correct ending and one with the incorrect (sSC: StoryCloze's own
    wrong ending; tSC: a random ending from another story). Clips pair up as `_storycloze_pairs` reads them; a
    <stem>.txt beside a clip, where present, is its text. DIR is sSC/ or tSC/ or a folder holding them (option
    subsets=sSC,tSC). One record per story: task sstorycloze / tstorycloze, kind "pair", options_audio {A, B} (the
    two clips, in an order fixed by the record id), reference the correct letter, options_text where .txt exist,
    audio = option A's clip (a manifest needs one), split test. The benchmark scores which clip a model finds more
    likely; a record holds no question text."""
    root = require_dir(ctx.source, "spoken-storycloze")
    wanted = ctx.options.get("subsets")
    names = wanted.split(",") if wanted else list(SPOKEN_STORYCLOZE)
    unknown = [n for n in names if n not in SPOKEN_STORYCLOZE]
    if unknown:
        raise DataError(f"spoken-storycloze: unknown subset {unknown[0]!r} (sSC, tSC)")
    folders = [(root, SPOKEN_STORYCLOZE[root.name])] if root.name in names else \
        [(root / n, SPOKEN_STORYCLOZE[n]) for n in names if (root / n).is_dir()]
    folders = [(folder, task) for folder, task in folders if any(folder.glob("*.wav"))]
    if not folders:
        raise DataError(f"spoken-storycloze: no {' or '.join(n + '/' for n in names)} folder of .wav files "
                        f"under {root}")
    records = []
    for folder, task in folders:
        for number, correct, incorrect in _storycloze_pairs(folder):
            rid = f"{task}/{number}"
            reference = stable_choice(rid, ("A", "B"))
            clips = {"A": correct, "B": incorrect} if reference == "A" else {"A": incorrect, "B": correct}
            texts = {letter: clip.with_suffix(".txt") for letter, clip in clips.items()}
            record = {"id": rid, "task": task, "kind": "pair", "audio": ctx.relative(clips["A"]),
                      "options_audio": {letter: ctx.relative(clip) for letter, clip in clips.items()},
                      "reference": reference, "split": "test", "source": "spoken-storycloze"}
            if all(path.is_file() for path in texts.values()):
                record["options_text"] = {letter: " ".join(read_lines(path)).strip()
                                          for letter, path in texts.items()}
            records.append(record)
    return records[:ctx.limit]


def _as_label_eval(records: list[dict], task: str, labels: list[str]) -> list[dict]:
    instruction = label_instruction(task, labels)
    for r in records:
        r.update(task=task, kind="label", reference=r[task], instruction=instruction, labels=labels)
    return records


def import_cv_accents(ctx: ImportContext) -> list[dict]:
    """The paper's accent test, built from the Common Voice test set (Table 5): the test.tsv clips whose accent maps
    to one of our labels (without test.tsv: the test speakers of validated.tsv's speaker split); labels = the
    accents present (at least option min_clips, default 1, clips each)."""
    records = [r for r in import_commonvoice(ctx, splits=("test",)) if r.get("accent") and r["split"] == "test"]
    counts: dict[str, int] = {}
    for r in records:
        counts[r["accent"]] = counts.get(r["accent"], 0) + 1
    labels = sorted(a for a, n in counts.items() if n >= int(ctx.options.get("min_clips", 1)))
    records = [r for r in records if r["accent"] in labels]
    if len(labels) < 2:
        raise DataError(f"cv-accents: fewer than two accents with labelled test clips under {ctx.source}")
    for r in records:
        r.pop("reference", None)
        r["id"] = r["id"].replace("commonvoice/", "cv-accents/", 1)
        r["source"] = "cv-accents"
    return _as_label_eval(records, "accent", labels)[:ctx.limit]


def import_ravdess_emotion(ctx: ImportContext) -> list[dict]:
    """RAVDESS as an emotion test (the paper's SER probe set): every speech clip, split "test", the eight labels."""
    records = import_ravdess(ctx)
    for r in records:
        r["id"] = r["id"].replace("ravdess/", "ravdess-emotion/", 1)
        r["probe_split"], r["split"] = r["split"], "test"  # the speaker split stays available for probes
        r["source"] = "ravdess-emotion"
    return _as_label_eval(records, "emotion", list(RAVDESS_EMOTIONS.values()))[:ctx.limit]

