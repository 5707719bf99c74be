"""The mini recipe: the whole paper on the mini world, end to end, resumable step by step.

    textpro recipe mini [--out runs/mini] [--config configs/recipe-mini.yaml] [--from STEP] [--until STEP]

Steps (each a `textpro` command in a subprocess, its output in OUT/logs/<step>.log):

    data        textpro data make-mini                      → OUT/data/{train,dev,test,test_robust}.jsonl + audio
    teacher     textpro train text-llm                      → OUT/teacher/model   (the original text LLM)
    whisperpro  textpro train whisperpro                    → OUT/whisperpro/model
    featurize   textpro featurize (train split)             → OUT/features/train
    distill     textpro distill (teacher answers ASR text)  → OUT/features/distill.jsonl
    slm-stage1  textpro train slm --stage 1                 → OUT/slm-stage1/model (projector; LLM = the teacher)
    slm-hearing textpro train slm --stage 2 (LoRA), paralinguistic rows only → OUT/slm-hearing/model
    slm-stage2  textpro train slm --stage 2 (same LoRA), content + paralinguistic → OUT/slm-stage2/model
    slm-gate    textpro train slm --stage 2: the adapter's per-turn gate fitted, then the projector alone (adapter
                frozen), half the content rows at the mean voice → OUT/slm-gate/model
    export      adapters (float16) + example clips          → OUT/default         (what ships as the default)
    eval        textpro eval + WhisperPro WER of OUT/default → OUT/eval/{test,test_robust}/results.*, OUT/eval/wer.json

Each stage's YAML is the shipped config (configs/…) with the recipe's paths and sizes filled in, written to
OUT/configs/<step>.yaml before the command runs (so a step can be re-run by hand with exactly those settings).
Training steps always pass --resume: an interrupted step continues from its last checkpoint. The speech side
(whisperpro, featurize) and the teacher do not depend on each other: the teacher trains in the background alongside
them (one thread each: the two cores of a small machine) until distill, its first user, needs it; once the speech
side is done and distill waits for it, the runner tells it to take both cores.

Where the rest lives: the sizes in config.py (configs/recipe-*.yaml), the shared step pieces in stages.py, running
steps in order with the background lane in runner.py, timings in timing.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from textpro.errors import ConfigError
from textpro.recipe.config import DistillSettings, MiniRecipeConfig, config_path
from textpro.recipe.runner import Step, StepContext
from textpro.recipe.stages import distill_args, stage_config, subset_manifest, train_slm, write_stage_config
from textpro.train.config import read_yaml


def _existing_whisperpro(use: str | None) -> Path | None:
    """whisperpro.use as a directory: "default" is the embedded default's WhisperPro."""
    if not use:
        return None
    from textpro.pipeline import DEFAULT_MODEL_DIR

    path = DEFAULT_MODEL_DIR / "whisperpro" if use == "default" else config_path(use)
    if not (path / "config.json").is_file():
        raise ConfigError(f"whisperpro.use {use!r}: {path} holds no WhisperPro (no config.json)")
    return path


class MiniRecipe:
    """The step list for one output directory and config."""

    def __init__(self, config: MiniRecipeConfig, out: str | Path):
        self.config = config
        self.out = Path(out)
        self.data = self.out / "data"
        self.teacher = self.out / "teacher" / "model"
        self.whisperpro = _existing_whisperpro(config.whisperpro.use) or self.out / "whisperpro" / "model"
        self.features = self.out / "features" / "train"
        self.distilled = self.out / "features" / "distill.jsonl"
        self.stage1 = self.out / "slm-stage1" / "model"
        self.hearing = self.out / "slm-hearing" / "model"
        self.stage2 = self.out / "slm-stage2" / "model"
        self.gated = self.out / "slm-gate" / "model"
        self.default = self.out / "default"

    def steps(self) -> list[Step]:
        return [
            Step("data", self.make_data, "synthesize the mini world (make-mini)"),
            Step("teacher", self.train_teacher, "fine-tune the text LLM on the train questions (the teacher)",
                 background_until="distill"),
            Step("whisperpro", self.train_whisperpro, "fine-tune WhisperPro on the train split"),
            Step("featurize", self.featurize, "WhisperPro transcripts + prosody vectors of the train split"),
            Step("distill", self.distill, "the teacher answers the ASR transcripts"),
            Step("slm-stage1", self.slm_stage1, "SLM stage 1: projector only, LLM frozen"),
            *([Step("slm-hearing", self.slm_hearing, "SLM stage 2, first phase: projector + LoRA on the "
                    "paralinguistic tasks, reading the measured acoustics")] if self.config.slm_hearing else []),
            Step("slm-stage2", self.slm_stage2, "SLM stage 2: projector + LoRA on the content mix (the config may fit "
                 "the adapter's per-turn gate first)"),
            *([Step("slm-gate", self.slm_gate, "SLM stage 2, last phase: the projector alone (the adapter and its "
                    "gate kept) with half the content rows at the mean voice")] if self.config.slm_gate else []),
            Step("export", self.export, "pack the adapters + example clips into OUT/default (the embedded default)"),
            Step("eval", self.evaluate, "modality gap, paralinguistic accuracy, WhisperPro WER (of OUT/default)"),
        ]

    def make_data(self, ctx: StepContext) -> None:
        data = self.config.data
        summary = self.data / "summary.json"  # make-mini writes it last: a benchmark there is complete
        if summary.is_file():
            made = json.loads(summary.read_text()).get("config", {})
            sizes = made.get("test_sizes")
            if made.get("seed") == data.seed and made.get("hours") == data.hours and \
                    (list(sizes) if sizes else None) == (list(data.test_sizes) if data.test_sizes else None):
                ctx.log(f"{self.data} already holds the benchmark for seed {data.seed}, {data.hours} h: kept")
                return
        sizes = ["--test-sizes", *(str(n) for n in data.test_sizes)] if data.test_sizes else []
        ctx.textpro("data", "make-mini", "--out", self.data, "--seed", str(data.seed), "--hours", str(data.hours),
                    "--workers", str(data.workers), *sizes, "--quiet")

    def train_teacher(self, ctx: StepContext) -> None:
        config = stage_config(self.config.teacher, {"train_file": str(self.data / "train.jsonl")},
                              self.teacher.parent)
        ctx.textpro("train", "text-llm", "--config", write_stage_config(ctx, "teacher", config), "--resume")

    def train_whisperpro(self, ctx: StepContext) -> None:
        if self.config.whisperpro.use:
            ctx.log(f"whisperpro: using {self.whisperpro} (whisperpro.use), nothing trained")
            return
        config = stage_config(self.config.whisperpro, {"train_manifest": str(self.data / "train.jsonl")},
                              self.whisperpro.parent)
        ctx.textpro("train", "whisperpro", "--config", write_stage_config(ctx, "whisperpro", config), "--resume")

    def featurize(self, ctx: StepContext) -> None:
        settings = self.config.featurize
        manifest = subset_manifest(self.data / "train.jsonl", self.features.parent / "train-manifest.jsonl",
                                   settings.fraction, settings.task_fractions)
        ctx.log(f"featurizing {manifest}")
        ctx.textpro("featurize", manifest, "--whisperpro", self.whisperpro, "--out", self.features,
                    "--batch-size", str(settings.batch_size), "--shard-size", str(settings.shard_size), "--quiet")

    def distill(self, ctx: StepContext) -> None:
        settings = self.config.distill
        ctx.textpro(*distill_args(settings, self.features, self.teacher, self.distilled))
        for task, spec in settings.more_tasks.items():  # appended to the same file (ids are unique)
            spec = spec if isinstance(spec, dict) else {"max_new_tokens": spec}
            more = DistillSettings(task, settings.source, int(spec["max_new_tokens"]), settings.batch_size,
                                   spec.get("limit", settings.limit))
            ctx.textpro(*distill_args(more, self.features, self.teacher, self.distilled))

    def slm_stage1(self, ctx: StepContext) -> None:
        base = read_yaml(config_path(self.config.slm_stage1.config))
        slm = {**(base.get("slm") or {}), "base_llm": str(self.teacher)}  # the teacher is the SLM's starting point
        train_slm(ctx, "slm-stage1", 1, self.config.slm_stage1, {"features": [str(self.features)], "slm": slm},
                  self.stage1.parent)

    def slm_hearing(self, ctx: StepContext) -> None:
        train_slm(ctx, "slm-hearing", 2, self.config.slm_hearing,
                  {"init_from": str(self.stage1), "features": [str(self.features)]}, self.hearing.parent)

    def slm_stage2(self, ctx: StepContext) -> None:
        start = self.hearing if self.config.slm_hearing else self.stage1
        train_slm(ctx, "slm-stage2", 2, self.config.slm_stage2, {"init_from": str(start), "features": [
            str(self.features)], "distill": str(self.distilled)}, self.stage2.parent)

    def slm_gate(self, ctx: StepContext) -> None:
        train_slm(ctx, "slm-gate", 2, self.config.slm_gate, {"init_from": str(self.stage2), "features": [
            str(self.features)], "distill": str(self.distilled)}, self.gated.parent)

    def export(self, ctx: StepContext) -> None:
        from textpro.recipe.export import directory_megabytes, export_default

        last = self.gated if self.config.slm_gate else self.stage2
        export_default(last, self.teacher, self.whisperpro, self.data, self.default)
        ctx.log(f"{self.default}: {directory_megabytes(self.default):.1f} MB "
                "(copy it to src/textpro/assets/default to make it the embedded default)")

    def evaluate(self, ctx: StepContext) -> None:
        settings = self.config.eval
        wer = {}
        for split in settings.splits:  # WhisperPro's WER on the same splits (clean and perturbed)
            path = self.out / "eval" / f"wer-{split}.json"
            models = [self.default / "whisperpro", *([settings.wer_base] if settings.wer_base else [])]
            args = [sys.executable, "-m", "textpro.recipe.wer", *models, "--bench", self.data,
                    "--split", split, "--out", path]
            if settings.wer_limit:
                args += ["--limit", str(settings.wer_limit)]
            ctx.command(*args)
            results = [{k: v for k, v in r.items() if k != "utterances"} for r in json.loads(path.read_text())]
            wer[split] = {**results[0], **({"base": results[1]} if len(results) > 1 else {})}
        (self.out / "eval" / "wer.json").write_text(json.dumps(wer, indent=2) + "\n")
        for split in settings.splits:
            args = ["eval", "--bench", self.data, "--split", split, "--model", self.default, "--text-model",
                    self.default / "teacher", "--out", self.out / "eval" / split,
                    "--ledger", self.out / "eval" / "ledger.jsonl"]  # every test evaluation, appended
            if settings.limit:
                args += ["--limit", str(settings.limit)]
            ctx.textpro(*args)
