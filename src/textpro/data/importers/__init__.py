"""`textpro data import KIND DIR --out MANIFEST`: the paper's datasets, as their public releases lay them out, into
our JSONL manifests (fields: `textpro.data.importers.common`). One module per family:

    speech     librispeech, commonvoice, vctk, paraspeechcaps            transcripts, gender, accent, age
    emotion    crema-d, tess, savee, ravdess, esd, iemocap                acted emotion (task "emotion")
    spoken     ultrachat, commonsenseqa, openbookqa, arc, piqa, storycloze   text → speech with an installed TTS
    evalsets   voxeval, voicebench, spoken-storycloze, cv-accents,        evaluation records with their own audio
               ravdess-emotion
    hf         hf                                                         a local HF dataset with an Audio column

Bad input (a missing folder, an unknown kind, a malformed label file) raises `textpro.errors.DataError` with a
one-line message. Train/dev/test are speaker-disjoint: the corpus's own split where it is (LibriSpeech, Common
Voice), else `common.speaker_split` (seeded by --seed).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from textpro.data.importers import emotion, evalsets, hf, speech, spoken
from textpro.data.importers.common import (
    ImportContext,
    check_speaker_disjoint,
    speaker_split,
    write_manifest,
)
from textpro.errors import DataError

IMPORTERS: dict[str, Callable[[ImportContext], list[dict]]] = {
    "librispeech": speech.import_librispeech,
    "commonvoice": speech.import_commonvoice,
    "vctk": speech.import_vctk,
    "paraspeechcaps": speech.import_paraspeechcaps,
    "crema-d": emotion.import_cremad,
    "tess": emotion.import_tess,
    "savee": emotion.import_savee,
    "ravdess": emotion.import_ravdess,
    "esd": emotion.import_esd,
    "iemocap": emotion.import_iemocap,
    "ultrachat": spoken.import_ultrachat,
    "commonsenseqa": spoken.import_commonsenseqa,
    "openbookqa": spoken.import_openbookqa,
    "arc": spoken.import_arc,
    "piqa": spoken.import_piqa,
    "storycloze": spoken.import_storycloze,
    "voxeval": evalsets.import_voxeval,
    "voicebench": evalsets.import_voicebench,
    "spoken-storycloze": evalsets.import_spoken_storycloze,
    "cv-accents": evalsets.import_cv_accents,
    "ravdess-emotion": evalsets.import_ravdess_emotion,
    "hf": hf.import_hf,
}
KINDS = tuple(IMPORTERS)


def import_records(kind: str, source: str | os.PathLike, out: str | os.PathLike, **settings) -> list[dict]:
    """The records of one dataset folder (not written). settings: ImportContext fields (seed, dev_fraction,
    test_fraction, limit, voice, options)."""
    if kind not in IMPORTERS:
        raise DataError(f"unknown dataset kind {kind!r}; known: {', '.join(KINDS)}")
    ctx = ImportContext(source=Path(source), out=Path(out), kind=kind, **settings)
    if not ctx.source.exists():
        raise DataError(f"{kind}: {ctx.source} does not exist")
    records = IMPORTERS[kind](ctx)[:ctx.limit]
    check_speaker_disjoint(records)
    return records


def import_dataset(kind: str, source: str | os.PathLike, out: str | os.PathLike, *,
                   splits: tuple[str, ...] | None = None, **settings) -> dict:
    """Import and write the manifest; returns a summary {records, splits: {split: n}, speakers (distinct speaker ids),
    speakers_text (`speaker_count`), out}.
    splits: write only the records of these splits (the split is still made over the whole corpus: a train-only
    manifest shares no speaker with the test manifest of the same seed)."""
    records = import_records(kind, source, out, **settings)
    if splits:
        unknown = set(splits) - {"train", "dev", "test"}
        if unknown:
            raise DataError(f"--splits: unknown split {sorted(unknown)[0]!r} (train, dev, test)")
        records = [r for r in records if r.get("split") in splits]
    write_manifest(records, out)
    splits: dict[str, int] = {}
    for r in records:
        splits[r.get("split", "train")] = splits.get(r.get("split", "train"), 0) + 1
    speakers = len({r["speaker"] for r in records if r.get("speaker")})  # records without a speaker id are no speaker
    return {"records": len(records), "splits": splits, "speakers": speakers, "speakers_text": speaker_count(speakers),
            "out": str(out)}


def speaker_count(speakers: int) -> str:
    """How an import summary says its number of speaker ids: "no speaker ids", "1 speaker", "12 speakers"."""
    return "no speaker ids" if not speakers else "1 speaker" if speakers == 1 else f"{speakers} speakers"


__all__ = ["IMPORTERS", "KINDS", "ImportContext", "import_dataset", "import_records", "speaker_split",
           "write_manifest"]
