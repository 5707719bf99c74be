"""The reproduction's report: OUT/results.{json,md,png} from its outputs, and, only when asked, make reproduce's section
of BENCHMARKS.md (with the chart and results.json copied to benchmarks/results/ beside it).

    textpro recipe report runs/reproduce                                  re-render results.md and results.png
    textpro recipe report runs/reproduce --update-benchmarks BENCHMARKS.md  and replace the section there

The recipe writes only under its --out; updating BENCHMARKS.md is this explicit command (`make benchmarks-md`).
The rendering itself is textpro.eval.comparison.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from textpro.errors import ConfigError
from textpro.eval.comparison import (
    benchmarks_section,
    replace_section,
    results_chart,
    results_markdown,
    semantic_by_kind,
)
from textpro.recipe.measure import training_hours
from textpro.recipe.timing import run_timing

if TYPE_CHECKING:
    from textpro.recipe.reproduce import Reproduce

MINI_WRAPPERS = ("mini-data", "mini", "mini-slm")  # steps that run `textpro recipe mini` (its steps are timed there)
FIGURES = Path("benchmarks") / "results"  # beside the Markdown file: reproduce.png, reproduce.json


def collect_results(recipe: Reproduce) -> dict:
    splits = recipe.eval_splits()
    out: dict = {"mini_dir": str(recipe.mini.out), "splits": splits, "systems": {}}
    for system in recipe.config.systems:
        trained = recipe.ablations[system].trained
        entry: dict = {"label": recipe.ablations[system].label,
                       "model": str(recipe.model_dir(system)) if trained else None}
        for split in splits:
            eval_dir = recipe.out / "eval" / system / split
            if not (eval_dir / "results.json").is_file():
                continue
            summary = json.loads((eval_dir / "results.json").read_text())
            para = summary["paralinguistic"]
            entry[split] = {"average": summary["average"],
                            "paralinguistic_chance": sum(t["chance"] for t in para) / len(para) if para else None,
                            "paralinguistic": {t["task"]: t["speech"]["accuracy"] for t in summary["paralinguistic"]},
                            "semantic_by_kind": semantic_by_kind(recipe.mini.data, split, eval_dir)}
        if trained:
            features, distill, _, extra = recipe.system_data(system)
            if system == "textpro" and recipe.config.reuse_mini_textpro:
                features, distill = [recipe.mini.features], recipe.mini.distilled
            if all((f / "index.jsonl").is_file() for f in features):
                entry["training_audio_hours"] = training_hours(features, distill, extra.get("use_paralinguistic", True))
        out["systems"][system] = entry
    for name in ("efficiency.json",):
        path = recipe.out / name
        out["efficiency"] = json.loads(path.read_text()) if path.is_file() else {}
    probe = recipe.out / "probe" / "probe.json"
    out["probe"] = json.loads(probe.read_text()) if probe.is_file() else None
    out["probe_names"] = {recipe.config.probe.vanilla: f"vanilla {recipe.config.probe.vanilla}",
                          str(recipe.mini.whisperpro): "WhisperPro",
                          str(recipe.norecon_whisperpro): "WhisperPro w/o Recon"}
    return out


def write_results(recipe: Reproduce) -> dict:
    """OUT/results.json (with the run's timing), results.md and results.png."""
    results = collect_results(recipe)
    results["timing"] = run_timing([recipe.mini.out / "done", recipe.out / "done"], skip=MINI_WRAPPERS)
    (recipe.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    render(results, recipe.out)
    return results


def render(results: dict, out: Path) -> None:
    """OUT/results.md and results.png."""
    (out / "results.md").write_text(results_markdown(results), encoding="utf-8")
    results_chart(results, out / "results.png")


def read_results(out: Path) -> dict:
    path = Path(out) / "results.json"
    if not path.is_file():
        raise ConfigError(f"{path} does not exist: run `textpro recipe reproduce --out {out}` (its tables step) first")
    return json.loads(path.read_text())


def update_benchmarks(out: Path, document: Path) -> Path:
    """Replace make reproduce's section of `document` with OUT's tables; copy the chart and results.json to
    benchmarks/results/ beside it. Returns the document."""
    out, document = Path(out), Path(document)
    if not document.is_file():
        raise ConfigError(f"{document} does not exist (give the repository's BENCHMARKS.md)")
    results = read_results(out)
    if not (out / "results.png").is_file():
        render(results, out)
    figures = document.parent / FIGURES
    figures.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out / "results.png", figures / "reproduce.png")
    shutil.copyfile(out / "results.json", figures / "reproduce.json")
    section = benchmarks_section(results, (FIGURES / "reproduce.png").as_posix())
    document.write_text(replace_section(document.read_text(encoding="utf-8"), section), encoding="utf-8")
    return document
