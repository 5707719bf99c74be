"""The test ledger: every evaluation of a test split appends one JSON line (which code, which model, which numbers),
so that the record shows how often the test splits were looked at and what they said each time.

    {"time": ..., "git_sha": ..., "model_dir": ..., "config_hash": ..., "bench": ..., "split": "test_unseen",
     "speech_system": ..., "n": {"mcq_facts": 300, "gender": 150, ...}, "headline": {...}}
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path

CONFIG_SUFFIXES = (".json", ".yaml", ".yml", ".toml", ".txt")  # what a model directory is configured by, not weights


def git_sha(directory: str | Path | None = None) -> str | None:
    """The commit of the textpro checkout (with "+dirty" when tracked files differ), None outside git."""
    where = str(directory or Path(__file__).resolve().parent)
    try:
        sha = subprocess.run(["git", "-C", where, "rev-parse", "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", where, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return sha + ("+dirty" if dirty else "")


def config_hash(model_dir: str | Path | None) -> str | None:
    """sha256 (first 16 hex digits) over the names and contents of the model directory's config files (recursive)."""
    if model_dir is None or not Path(model_dir).is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(model_dir).rglob("*") if p.is_file() and p.suffix in CONFIG_SUFFIXES):
        digest.update(str(path.relative_to(model_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def headline(result) -> dict:
    """The numbers a test evaluation is judged by: averages, each paralinguistic task with its rule, the bootstrap
    and the open-ended scores."""
    return {
        "average": result.averages(),
        "paralinguistic": {t.task: {"accuracy": t.speech.accuracy, "balanced_accuracy": t.balanced_accuracy,
                                    "rule_accuracy": t.rule["accuracy"] if t.rule else None,
                                    "cascade_accuracy": t.cascade.accuracy if t.cascade else None,
                                    "agreement": t.agreement,
                                    "top_share": t.histogram["top_share"] if t.histogram else None}
                           for t in result.paralinguistic},
        "bootstrap": result.bootstrap,
        "agreement_bootstrap": result.agreement_bootstrap,
        "open": {t.task: {"rouge_l": t.speech["rouge_l"], "length_ratio": t.speech["length_ratio"],
                          "rouge_l_same_transcript": (t.same_transcript or {}).get("rouge_l")}
                 for t in result.open},
    }


def append_to_ledger(path: str | Path, result, model_dir: str | Path | None = None) -> dict:
    """Append one line for `result` (an EvalResult) to the JSONL at `path`; returns the line's record."""
    from textpro.eval.report import without_nan

    tasks = result.semantic + result.paralinguistic + result.open
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "git_sha": git_sha(),
              "model_dir": str(model_dir) if model_dir else None, "config_hash": config_hash(model_dir),
              "bench": result.bench, "split": result.split, "speech_system": result.speech_system,
              "text_system": result.text_system, "n": {t.task: t.n for t in tasks}, "headline": headline(result)}
    record = without_nan(record)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")
    return record
