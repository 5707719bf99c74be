"""Hugging Face `datasets` with an Audio column, both ways, from and to local folders only (no hub access).

    textpro data import hf DIR --out MANIFEST          DIR: a `save_to_disk` folder (Dataset or DatasetDict) or
                                                        parquet files (data/<split>-00000-of-0000n.parquet)
    textpro data export-hf MANIFEST --out DIR [--parquet]

Import: each row's audio (the column given by option audio_column, else the one whose feature is Audio, else
"audio") is written as it is stored, undecoded, to <manifest folder>/audio/hf/<split>/<n>.<ext> (decoded
arrays as FLAC); text comes from text / transcript / transcription / sentence / normalized_text, the speaker from
speaker / speaker_id / speakerid / client_id, the gender is mapped to male/female; every other scalar column is
kept as it is. Export: one split per manifest `split` (default "train"); the audio column holds the files' bytes
(Audio feature, so `load_from_disk(...)[0]["audio"]` decodes); nested fields are stored as JSON text.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from textpro.data.importers.common import ImportContext, require_dir
from textpro.data.importers.speech import gender_label
from textpro.errors import DataError

TEXT_COLUMNS = ("text", "transcript", "transcription", "sentence", "normalized_text")
SPEAKER_COLUMNS = ("speaker", "speaker_id", "speakerid", "client_id")
_SHARD = re.compile(r"^(?P<split>.+?)-\d{5}-of-\d{5}$")
_MAGIC = ((b"RIFF", ".wav"), (b"fLaC", ".flac"), (b"OggS", ".ogg"), (b"ID3", ".mp3"), (b"\xff\xfb", ".mp3"),
          (b"\xff\xf3", ".mp3"), (b"\xff\xf2", ".mp3"))


def _splits(root: Path) -> dict[str, Iterator[dict]]:
    """split → its rows, read lazily (audio column undecoded: {"bytes", "path"} or {"array", "sampling_rate"})."""
    import pyarrow.parquet as pq

    if (root / "dataset_dict.json").is_file() or (root / "state.json").is_file():
        import datasets

        try:
            loaded = datasets.load_from_disk(str(root))
        except Exception as exc:  # noqa: BLE001 - datasets raises many kinds for a broken folder
            raise DataError(f"hf: cannot load the save_to_disk folder {root}: {exc}") from None
        parts = loaded if isinstance(loaded, datasets.DatasetDict) else {"train": loaded}
        out = {}
        for name, ds in parts.items():
            for column, feature in ds.features.items():
                if isinstance(feature, datasets.Audio):
                    ds = ds.cast_column(column, datasets.Audio(decode=False))
            out[name] = iter(ds)
        return out
    files = sorted(root.rglob("*.parquet"))
    if not files:
        raise DataError(f"hf: {root} is neither a save_to_disk folder nor holds *.parquet files")
    by_split: dict[str, list[Path]] = {}
    for path in files:
        match = _SHARD.match(path.stem)
        split = match["split"] if match else path.parent.name if path.parent != root else "train"
        by_split.setdefault(split, []).append(path)

    def rows(paths: list[Path]) -> Iterator[dict]:
        for path in paths:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=256):
                yield from batch.to_pylist()

    return {split: rows(paths) for split, paths in by_split.items()}


def _audio_column(first: dict, wanted: str | None) -> str:
    if wanted:
        if wanted not in first:
            raise DataError(f"hf: no column {wanted!r} (columns: {', '.join(first)})")
        return wanted
    for column, value in first.items():
        if isinstance(value, dict) and ({"bytes", "path"} <= set(value) or "array" in value):
            return column
    raise DataError("hf: no Audio column (a struct of bytes/path or array/sampling_rate); name it with "
                    "--option audio_column=NAME")


def _write_audio(value: dict, target: Path, where: str) -> Path:
    import numpy as np
    import soundfile as sf

    if value.get("bytes"):
        data = value["bytes"]
        suffix = Path(value.get("path") or "").suffix.lower() or next(
            (ext for magic, ext in _MAGIC if data.startswith(magic)), ".wav")
        path = target.with_suffix(suffix)
        if not path.is_file():
            path.write_bytes(data)
        return path
    if value.get("array") is not None:
        path = target.with_suffix(".flac")
        if not path.is_file():
            sf.write(path, np.asarray(value["array"], dtype=np.float32), int(value["sampling_rate"]),
                     format="FLAC", subtype="PCM_16")
        return path
    if value.get("path") and Path(value["path"]).is_file():
        return Path(value["path"])
    raise DataError(f"{where}: the audio has no bytes, array or existing path")


def import_hf(ctx: ImportContext) -> list[dict]:
    root = require_dir(ctx.source, "hf")
    records = []
    for split, rows in _splits(root).items():
        audio_column = None
        folder = ctx.audio_dir / split
        for index, row in enumerate(itertools.islice(rows, ctx.limit)):
            if audio_column is None:
                audio_column = _audio_column(row, ctx.options.get("audio_column"))
                folder.mkdir(parents=True, exist_ok=True)
            value = row.pop(audio_column)
            if not isinstance(value, dict):
                raise DataError(f"hf: {split} row {index}: column {audio_column!r} is not audio")
            audio = _write_audio(value, folder / f"{index:06d}", f"hf {split} row {index}")
            record = {k: v for k, v in row.items() if v is None or isinstance(v, (str, int, float, bool, list))}
            text = next((row[c] for c in TEXT_COLUMNS if isinstance(row.get(c), str)), None)
            speaker = next((row[c] for c in SPEAKER_COLUMNS if row.get(c) not in (None, "")), None)
            own_id = record.pop("id", None)
            record.update(id=f"hf/{split}/{own_id if own_id is not None else index}", audio=ctx.relative(audio),
                          split=str(record.get("split") or split), source=record.get("source") or "hf")
            if text is not None:
                record["text"] = text
            if speaker is not None:
                record["speaker"] = f"hf/{speaker}"
            if "gender" in row:
                record["gender_raw"], record["gender"] = row["gender"], gender_label(row["gender"])
            records.append(record)
    if not records:
        raise DataError(f"hf: no rows under {root}")
    return records


def export_hf(manifest: str | os.PathLike, out: str | os.PathLike, *, parquet: bool = False) -> dict[str, int]:
    """Write a manifest as a Hugging Face dataset with an Audio column; returns rows per split. The audio column
    starts as file paths; the files' bytes are embedded shard by shard (`save_to_disk`) or batch by batch
    (parquet), so a corpus of any size never sits in memory at once."""
    import datasets
    import pyarrow.parquet as pq
    from datasets.table import embed_table_storage

    from textpro.data.manifest import read_manifest

    try:
        records = read_manifest(manifest)
    except Exception as exc:  # ConfigError: a bad manifest is the user's data, reported the same way
        raise DataError(str(exc)) from None
    out = Path(out)
    by_split: dict[str, list[dict]] = {}
    for r in records:
        r.pop("_where", None)
        if not Path(r["audio"]).is_file():
            raise DataError(f"{manifest}: record {r['id']!r}: no audio file {r['audio']}")
        row = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v) for k, v in r.items()}
        by_split.setdefault(str(r.get("split") or "train"), []).append(row)
    parts = {}
    for split, rows in by_split.items():
        columns = list(dict.fromkeys(k for row in rows for k in row))
        table = {c: [row.get(c) for row in rows] for c in columns}
        try:
            parts[split] = datasets.Dataset.from_dict(table).cast_column("audio", datasets.Audio())
        except (TypeError, ValueError) as exc:
            raise DataError(f"cannot store the manifest as a dataset: {exc}") from None
    if parquet:
        (out / "data").mkdir(parents=True, exist_ok=True)
        for split, ds in parts.items():
            writer = None
            for batch in ds.with_format("arrow").iter(batch_size=256):
                embedded = embed_table_storage(batch)
                if writer is None:
                    writer = pq.ParquetWriter(out / "data" / f"{split}-00000-of-00001.parquet", embedded.schema)
                writer.write_table(embedded)
            writer.close()
    else:
        datasets.DatasetDict(parts).save_to_disk(str(out))
    return {split: len(ds) for split, ds in parts.items()}
