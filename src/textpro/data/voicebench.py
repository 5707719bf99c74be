"""VoiceBench subsets (`openbookqa`, `mmsu`, …) from a local copy, as records in our benchmark schema.

Layouts understood, under `local_dir/<subset>/`:
- the hub's parquet files (`hlt-lab/voicebench`): `<split>-00000-of-00001.parquet`, or the parquet-converter
  layout `<split>/0000.parquet`; the audio column is a struct {bytes, path} (or {array, sampling_rate});
- `datasets.save_to_disk` output: `[<split>/]data-00000-of-00001.arrow`;
- JSONL with audio files: `<split>.jsonl` whose `audio` field is a path relative to it.

Each record comes out as {id, audio (path of a 16 kHz WAV), prompt, reference, task = subset, split}. Audio is
decoded once and written to `audio_dir` (a temporary directory unless given), so responders that want a file get
one, and a second run reuses the files. As VoiceBench does, MMSU is every one of its splits (one per domain)
concatenated; we take them in sorted order. Other subsets use `split` (default "test").
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from textpro.audio import SAMPLE_RATE, load_audio
from textpro.errors import ConfigError

ALL_SPLITS_SUBSETS = ("mmsu",)  # VoiceBench concatenates all splits of these
MCQ_SUBSETS = ("openbookqa", "mmsu")  # scored by VoiceBench's `mcq` evaluator; the others need a judge
_SHARD = re.compile(r"^(?P<split>.+?)-\d{5}-of-\d{5}$")


def _find_splits(subset_dir: Path) -> dict[str, list[Path]]:
    """split name → its data files (parquet, arrow or jsonl), sorted."""
    splits: dict[str, list[Path]] = {}
    for path in sorted(subset_dir.rglob("*")):
        if path.suffix not in (".parquet", ".arrow", ".jsonl") or not path.is_file():
            continue
        relative = path.relative_to(subset_dir)
        if len(relative.parts) > 1:  # <split>/0000.parquet or <split>/data-….arrow
            split = relative.parts[0]
        elif path.stem.startswith("data-") and path.suffix == ".arrow":  # save_to_disk of a single split
            split = "test"
        else:
            match = _SHARD.match(path.stem)
            split = match["split"] if match else path.stem
        splits.setdefault(split, []).append(path)
    return splits


def _rows(path: Path) -> Iterator[dict]:
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    row = json.loads(line)
                    if isinstance(row.get("audio"), str):
                        row["audio"] = {"path": str(path.parent / row["audio"]), "bytes": None}
                    yield row
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=64):
            yield from batch.to_pylist()
    else:
        with pa.memory_map(str(path)) as source:
            try:
                table = pa.ipc.open_stream(source).read_all()
            except pa.ArrowInvalid:
                table = pa.ipc.open_file(source).read_all()
        yield from table.to_pylist()


def _decode_audio(audio, where: str) -> np.ndarray:
    if isinstance(audio, dict):
        if audio.get("bytes"):
            return load_audio(audio["bytes"], max_seconds=None, name=where)
        if audio.get("array") is not None:
            return load_audio(np.asarray(audio["array"], dtype=np.float32), audio.get("sampling_rate"),
                              max_seconds=None, name=where)
        if audio.get("path"):
            return load_audio(audio["path"], max_seconds=None, name=where)
    raise ConfigError(f"{where}: no audio (expected bytes, an array or a path)")


def load_voicebench(local_dir: str | Path, subset: str, *, split: str = "test",
                    audio_dir: str | Path | None = None) -> Iterator[dict]:
    """Yield the subset's records in our schema (see the module doc)."""
    import soundfile as sf

    subset_dir = Path(local_dir) / subset
    splits = _find_splits(subset_dir) if subset_dir.is_dir() else {}
    if not splits:
        raise ConfigError(f"no VoiceBench subset {subset!r} under {local_dir} (expected {subset_dir}/*.parquet)")
    if subset in ALL_SPLITS_SUBSETS:
        chosen = sorted(splits)
    elif split in splits:
        chosen = [split]
    else:
        raise ConfigError(f"VoiceBench {subset} has no split {split!r} (it has {', '.join(sorted(splits))})")

    audio_root = Path(audio_dir) if audio_dir else Path(tempfile.mkdtemp(prefix="textpro-voicebench-"))
    for name in chosen:
        index = 0
        for path in splits[name]:
            for row in _rows(path):
                if "prompt" not in row or "reference" not in row:
                    raise ConfigError(f"{path}: a record without 'prompt'/'reference' is not VoiceBench data")
                wav = audio_root / subset / name / f"{index:05d}.wav"
                if not wav.is_file():
                    samples = _decode_audio(row.get("audio"), f"{path.name} row {index}")
                    wav.parent.mkdir(parents=True, exist_ok=True)
                    sf.write(wav, samples, SAMPLE_RATE, subtype="PCM_16")
                yield {"id": f"{subset}/{name}/{index}", "audio": str(wav), "prompt": row["prompt"],
                       "reference": row["reference"], "task": subset, "split": name}
                index += 1
