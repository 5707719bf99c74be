"""VoiceBench multiple-choice subsets as harness Items (the local copy is read by `textpro.data.voicebench`)."""

from __future__ import annotations

import itertools
from pathlib import Path

from textpro.data.voicebench import ALL_SPLITS_SUBSETS, MCQ_SUBSETS, load_voicebench
from textpro.errors import ConfigError
from textpro.eval.bench import Item, items_from_records

__all__ = ["ALL_SPLITS_SUBSETS", "MCQ_SUBSETS", "load_voicebench", "voicebench_items"]


def voicebench_items(local_dir: str | Path, subset: str, *, split: str = "test",
                     audio_dir: str | Path | None = None, limit: int | None = None) -> list[Item]:
    """`load_voicebench` as harness Items (multiple choice, scored by letter); `limit`: the first N only
    (audio is decoded only for those)."""
    if subset not in MCQ_SUBSETS:
        raise ConfigError(f"VoiceBench {subset!r} is not multiple choice; the harness scores {', '.join(MCQ_SUBSETS)}")
    records = load_voicebench(local_dir, subset, split=split, audio_dir=audio_dir)
    records = [dict(r, kind="mcq") for r in itertools.islice(records, limit)]
    return items_from_records(records)
