"""What every recipe step has in common: a shipped stage config with the recipe's paths and sizes filled in (written to
OUT/configs/<step>.yaml before the command runs), the subset of clips to featurize, the environment of the step
subprocesses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from textpro.recipe.config import DistillSettings, MiniRecipeConfig, PaperRecipeConfig, StageSettings, config_path
from textpro.recipe.runner import StepContext
from textpro.train.config import merge, read_yaml


def stage_config(settings: StageSettings, paths: dict, output_dir: Path) -> dict:
    """The shipped stage config as a dict, with the recipe's paths (`paths`: top-level keys) and sizes."""
    data = read_yaml(config_path(settings.config))
    data.update(paths)
    data = merge(data, settings.overrides)  # mappings merge key by key (train: {batch_size: …})
    train = dict(data.get("train") or {})
    train["output_dir"] = str(output_dir)
    if settings.max_steps is not None:
        train["max_steps"] = settings.max_steps
    data["train"] = train
    return data


def write_stage_config(ctx: StepContext, name: str, data: dict) -> Path:
    path = ctx.out / "configs" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def train_slm(ctx: StepContext, name: str, stage: int, settings: StageSettings, paths: dict, output_dir: Path) -> Path:
    """`textpro train slm --stage N` on the shipped stage config with the recipe's paths; resumes. Returns the model."""
    config = stage_config(settings, paths, output_dir)
    ctx.textpro("train", "slm", "--stage", str(stage), "--config", write_stage_config(ctx, name, config), "--resume")
    return output_dir / "model"


def distill_args(settings: DistillSettings, features: Path, teacher: Path, out: Path) -> list:
    """`textpro distill` arguments: the teacher answers the transcripts in `features`."""
    args = ["distill", features, "--teacher", teacher, "--out", out, "--source", settings.source,
            "--max-new-tokens", str(settings.max_new_tokens), "--batch-size", str(settings.batch_size), "--quiet"]
    if settings.task:
        args += ["--task", settings.task]
    if settings.limit:
        args += ["--limit", str(settings.limit)]
    return args


def subset_manifest(manifest: Path, out: Path, fraction: float, task_fractions: dict | None = None) -> Path:
    """`manifest` itself when every fraction is ≥ 1; else a copy at `out` with that share of each task's records
    (evenly spaced, so every voice/label range stays represented) and absolute audio paths. task_fractions: per-task
    overrides of `fraction`."""
    task_fractions = task_fractions or {}
    if fraction >= 1 and all(f >= 1 for f in task_fractions.values()):
        return manifest
    by_task: dict[str, list[dict]] = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            record["audio"] = str((manifest.parent / record["audio"]).resolve())
            by_task.setdefault(str(record.get("task")), []).append(record)
    kept = []
    for task, records in by_task.items():
        n = max(1, round(len(records) * min(1.0, task_fractions.get(task, fraction))))
        kept += [records[i * len(records) // n] for i in range(n)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
    return out


def recipe_env(config: MiniRecipeConfig | PaperRecipeConfig, threads: int | None = None) -> dict[str, str]:
    """The steps' environment: `threads` (None: the config's) OpenMP/MKL threads, offline, quiet tokenizers."""
    threads = threads or config.threads
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1")
    return env
