"""Manifests: JSONL of clips ({id, audio, …}), read the same way by every step that takes one."""

from __future__ import annotations

import os
from pathlib import Path

from textpro.data.jsonl import parse_jsonl
from textpro.errors import ConfigError


def read_manifest(manifest: str | os.PathLike) -> list[dict]:
    """Manifest records with an `id` (the record's own, else its line number) and an absolute `audio` path."""
    manifest = Path(manifest)
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read manifest {manifest}: {exc.strerror}") from None
    records, seen = [], set()
    for number, record in parse_jsonl(lines, manifest, ConfigError):
        where = f"{manifest}:{number}"
        if not isinstance(record, dict) or not isinstance(record.get("audio"), str) or not record["audio"]:
            raise ConfigError(f"{where}: expected a JSON object with an 'audio' file path")
        record["id"] = str(record.get("id", number))
        if record["id"] in seen:
            raise ConfigError(f"{where}: duplicate id {record['id']!r}")
        seen.add(record["id"])
        record["audio"] = str((manifest.parent / record["audio"]).resolve())
        record["_where"] = where
        records.append(record)
    if not records:
        raise ConfigError(f"{manifest}: no records")
    return records
