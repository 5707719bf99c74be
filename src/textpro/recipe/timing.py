"""How long a recipe took: the per-step summary (OUT/summary.{json,md}) and the wall clock of steps that overlapped.

The steps' own times come from their done markers (runner.py): {"step", "seconds", "finished"}.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # a done marker's "finished" (local time)


def done_marker(out: Path, name: str) -> Path:
    """A step's done marker (written last by the runner; its presence = done)."""
    return Path(out) / "done" / f"{name}.json"


def step_seconds(out: Path, name: str) -> str:
    try:
        return format_seconds(json.loads(done_marker(out, name).read_text())["seconds"])
    except (OSError, ValueError, KeyError):
        return "?"


def format_seconds(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def wall_seconds(rows: list[dict]) -> float | None:
    """Seconds from the first done step's start to the last one's finish (less than the sum of the steps' times when
    background steps overlapped; more when a run was interrupted and resumed later)."""
    spans = [(finished - r["seconds"], finished) for r in rows if r.get("seconds") is not None and r.get("finished")
             for finished in [time.mktime(time.strptime(r["finished"], TIME_FORMAT))]]
    return round(max(end for _, end in spans) - min(start for start, _ in spans), 1) if spans else None


def write_summary(out: Path, steps: Sequence, status: dict[str, str] | None = None) -> dict:
    rows = []
    for step in steps:
        record = {"step": step.name, "status": (status or {}).get(step.name, "pending"), "seconds": None}
        if done_marker(out, step.name).is_file():
            record.update(status="done", **{k: v for k, v in json.loads(done_marker(out, step.name).read_text()).items()
                                            if k in ("seconds", "finished")})
        rows.append(record)
    total = sum(r["seconds"] or 0 for r in rows)
    summary = {"steps": rows, "total_seconds": round(total, 1), "wall_seconds": wall_seconds(rows)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = ["| Step | Status | Minutes |", "|---|---|---:|"]
    for r in rows:
        minutes = "" if r["seconds"] is None else f"{r['seconds'] / 60:.1f}"
        lines.append(f"| {r['step']} | {r['status']} | {minutes} |")
    lines.append(f"| **total (done steps)** | | **{total / 60:.1f}** |")
    if summary["wall_seconds"] is not None and summary["wall_seconds"] < total - 1:  # background steps overlapped
        lines.append(f"| **wall clock (first start to last finish)** | | **{summary['wall_seconds'] / 60:.1f}** |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    return summary


def run_timing(done_dirs: list[Path], skip: tuple[str, ...] = ()) -> dict:
    """Wall clock of everything `make reproduce` ran (the mini recipe's steps and its own, from their done markers),
    the sum of the steps' own times (more than the wall clock: two lanes overlap), and the machine's cores.
    skip: steps that only wrap others already counted (the `recipe mini` calls)."""
    rows = [json.loads(p.read_text()) for d in done_dirs if d.is_dir() for p in sorted(d.glob("*.json"))]
    rows = [r for r in rows if r.get("step") not in skip]
    rows.sort(key=lambda r: r.get("finished") or "")
    return {"wall_seconds": wall_seconds(rows), "step_seconds": round(sum(r.get("seconds") or 0 for r in rows), 1),
            "steps": len(rows), "cores": os.cpu_count(),
            "step_minutes": {r["step"]: round((r.get("seconds") or 0) / 60, 1) for r in rows}}
