"""`make reproduce`: every system of the paper's tables on the mini world, same data and steps, side by side.

    textpro recipe reproduce [--mini-dir runs/mini] [--out runs/reproduce] [--config configs/reproduce-mini.yaml]

Built on the mini recipe's outputs in --mini-dir (data, WhisperPro, features, teacher, distillation targets; the
first step runs `textpro recipe mini --until …` there, which skips what is done), with the mini recipe's own stage
settings (its config's slm_stage1 / slm_hearing / slm_stage2 / whisperpro / featurize / distill / eval), so every system
trains on the same records for the same steps (stage 2 with its paralinguistic-only first phase, except w/o para).
Each system is a YAML overlay, configs/ablations/<name>.yaml (ablations.py):

    textpro      TextPro-SLM, global injection (the mini recipe's own slm-stage2 when reuse_mini_textpro)
    interleave   TextPro-SLM, one prosody vector per 5 transcript tokens
    adapter      continuous adapter: Whisper encoder states pooled to 25 Hz, MLP -> LLM (slm/encoder_baseline.py)
    no-recon     WhisperPro trained with --no-reconstruction (λ = 0), its own features and distillation targets
    no-distill   stage 2 on the dataset answers ("B. twelve") instead of the teacher's (from TextPro's stage 1: the
                 stages differ only there)
    no-para      no paralinguistic examples in either stage
    cascade      WhisperPro transcript -> the text LLM (no training)

Then every system is evaluated (`textpro eval`, the text side answered once and shared), the probe table is computed
(vanilla Whisper vs WhisperPro vs WhisperPro without reconstruction), efficiency is measured (LLM input positions per
second of audio, latency per query, both as ratios to the adapter, timed with nothing else running), and
OUT/results.{md,json,png} are written (report.py); nothing is written outside OUT. `textpro recipe report OUT
--update-benchmarks BENCHMARKS.md` then puts the same tables into make reproduce's section there. Each step is skipped
once done (runner.py); training steps resume.

Two lanes keep both cores of a small machine busy (one thread per step): the systems in the config's `background`
train and are evaluated on the runner's background worker, the others (the adapter, the slowest) in the foreground;
w/o Recon's WhisperPro trains beside the mini recipe's teacher and WhisperPro.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from textpro.recipe.ablations import Ablation, load_ablation
from textpro.recipe.config import MiniRecipeConfig, ReproduceConfig, config_path
from textpro.recipe.measure import dataset_answers, measure_efficiency, seed_text_responses
from textpro.recipe.mini import MiniRecipe
from textpro.recipe.runner import RecipeError, Step, StepContext
from textpro.recipe.stages import (
    distill_args,
    recipe_env,
    stage_config,
    subset_manifest,
    train_slm,
    write_stage_config,
)
from textpro.train.config import read_yaml


class Reproduce:
    def __init__(self, config: ReproduceConfig, out: str | Path, mini_dir: str | Path):
        self.config = config
        self.out = Path(out)
        self.mini_config = MiniRecipeConfig.from_yaml(config_path(config.mini_config))
        self.mini = MiniRecipe(self.mini_config, mini_dir)
        directory = config_path(config.ablations)
        self.ablations: dict[str, Ablation] = {name: load_ablation(directory, name) for name in config.systems}
        self.encoder_features = self.out / "features" / "encoder"
        self.answers = self.out / "features" / "answers.jsonl"
        self.norecon_whisperpro = self.out / "whisperpro-norecon" / "model"
        self.norecon_features = self.out / "features" / "norecon"
        self.norecon_distilled = self.out / "features" / "norecon-distill.jsonl"

    # ---- where things are -------------------------------------------------------------------------------------------
    def has(self, system: str) -> bool:
        return system in self.config.systems

    def using(self, features: str | None = None, distill: str | None = None) -> list[str]:
        """The systems whose overlay reads these features or these distillation targets, in the config's order."""
        return [name for name, a in self.ablations.items() if a.features == features or a.distill == distill]

    def eval_splits(self) -> list[str]:
        return self.config.eval_splits or self.mini_config.eval.splits

    def reuses_mini(self) -> bool:
        return self.has("textpro") and self.config.reuse_mini_textpro

    def shares_stage1(self, system: str) -> bool:
        """A system whose overlay differs from TextPro's only in stage 2's targets (w/o KD: stage 1 is
        paralinguistic-only in both, the same config) starts from TextPro's stage-1 model instead of training the same
        one again."""
        return (self.has("textpro") and system != "textpro" and system in self.ablations
                and self.ablations[system].stage1_like_textpro)

    def stage1_dir(self, system: str) -> Path:
        if self.shares_stage1(system):
            system = "textpro"
        if system == "textpro" and self.config.reuse_mini_textpro:
            return self.mini.stage1
        return self.out / system / "stage1" / "model"

    def model_dir(self, system: str) -> Path:
        if system == "textpro" and self.config.reuse_mini_textpro:
            return self.mini.stage2
        return self.out / system / "stage2" / "model"

    def train_manifest(self) -> Path:
        """The records the mini recipe featurizes (the same evenly spaced subset when it takes a fraction), written
        here, so that systems with their own features need not wait for the mini recipe's featurize step."""
        return subset_manifest(self.mini.data / "train.jsonl", self.out / "features" / "train-manifest.jsonl",
                               self.mini_config.featurize.fraction, self.mini_config.featurize.task_fractions)

    def system_data(self, system: str) -> tuple[list[Path], Path, dict, dict]:
        """(feature caches, distillation targets, slm overrides, other top-level overrides) of a trained system."""
        ablation = self.ablations[system]
        features = {"mini": self.mini.features, "encoder": self.encoder_features, "norecon": self.norecon_features}
        distill = {"mini": self.mini.distilled, "norecon": self.norecon_distilled, "answers": self.answers}
        return ([features[ablation.features]], distill[ablation.distill], dict(ablation.slm),
                dict(ablation.overrides))

    # ---- steps ------------------------------------------------------------------------------------------------------
    def steps(self) -> list[Step]:
        """Two lanes: the foreground and one background worker (runner.py), one core each. Background steps queue in
        list order and are submitted when the foreground reaches them, so a background step listed after "mini" starts
        only once the teacher and the mini features exist."""
        later = "efficiency"  # the first foreground step that needs background results (textpro's, interleave's)
        background = self.config.background

        def lane(system: str) -> str | None:
            return later if system in background else None

        def training_lane(system: str) -> str | None:
            sharers = [s for s in self.config.systems if self.shares_stage1(s) and s not in background]
            if system == "textpro" and sharers:
                return f"{sharers[0]}-stage2"  # a foreground step starts from TextPro's stage 1: wait for it there
            return lane(system)

        steps = [Step("mini-data", lambda ctx: self.run_mini(ctx, until="data"), "the mini world (make-mini)")]
        norecon = self.using(features="norecon", distill="norecon")
        if norecon:  # the speech side of w/o Recon needs only the data: beside the mini recipe
            first_user = lane(norecon[0]) or f"{norecon[0]}-stage1"
            steps += [Step("whisperpro-norecon", self.train_norecon, "WhisperPro without the reconstruction loss",
                           background_until="probe"),
                      Step("featurize-norecon", self.featurize_norecon, "its transcripts + prosody vectors",
                           background_until=first_user)]
        steps.append(Step("mini", self.run_mini, "the mini recipe's shared outputs up to distill (skips what is done)"))
        if self.reuses_mini():
            steps.append(Step("mini-slm", self.run_mini_slm, "the mini recipe's TextPro-SLM (stages 1 and 2)",
                              background_until=training_lane("textpro") or "eval-textpro"))
        if self.using(distill="norecon"):
            steps.append(Step("distill-norecon", self.distill_norecon, "the teacher answers its transcripts",
                              background_until=first_user))
        if self.using(features="encoder"):
            steps.append(Step("encoder-features", self.encoder_featurize, "adapter features: pooled encoder states"))
        if self.using(distill="answers"):
            steps.append(Step("answers", self.write_answers, "dataset answers as targets (the w/o KD ablation)"))
        trained = [s for s, a in self.ablations.items()
                   if a.trained and not (s == "textpro" and self.config.reuse_mini_textpro)]
        # Background systems first: they are submitted at once and their worker starts while the foreground trains.
        for system in sorted(trained, key=lambda s: s not in background):
            stages = (2,) if self.shares_stage1(system) else (1, 2)
            label = self.ablations[system].label
            steps += [Step(f"{system}-stage{stage}", lambda ctx, s=system, k=stage: self.train_stage(ctx, s, k),
                           f"{label}: stage {stage}",
                           background_until=training_lane(system)) for stage in stages]
        for system in sorted(self.config.systems, key=lambda s: s not in background):
            steps.append(Step(f"eval-{system}", lambda ctx, s=system: self.evaluate(ctx, s),
                              f"{self.ablations[system].label}: modality gap and paralinguistic accuracy",
                              background_until=lane(system)))
        steps += [Step("probe", self.probe, "probe table: vanilla Whisper vs WhisperPro utterance vectors"),
                  Step(later, self.efficiency, "LLM input positions per second and latency per query"),
                  Step("tables", self.tables, "OUT/results.md and results.json")]
        return steps

    def run_mini(self, ctx: StepContext, until: str = "distill") -> None:
        # one core per step: this recipe's background lane may be running beside it
        ctx.textpro("recipe", "mini", "--out", self.mini.out, "--config", config_path(self.config.mini_config),
                    "--until", until, "--threads-alone", str(self.mini_config.threads))

    def run_mini_slm(self, ctx: StepContext) -> None:
        self.run_mini(ctx, until="slm-stage2")

    def encoder_featurize(self, ctx: StepContext) -> None:
        settings = self.mini_config.featurize
        encoder = self.config.adapter_encoder or self.mini.whisperpro
        ctx.textpro("featurize", self.train_manifest(), "--whisperpro", encoder, "--out", self.encoder_features,
                    "--encoder-only", "--batch-size", str(settings.batch_size), "--shard-size",
                    str(settings.shard_size), "--quiet")

    def write_answers(self, ctx: StepContext) -> None:
        from textpro.slm.featurize import FeatureStore

        rows = dataset_answers(FeatureStore(self.mini.features), self.mini_config.distill.task)
        self.answers.parent.mkdir(parents=True, exist_ok=True)
        self.answers.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        ctx.log(f"wrote {len(rows)} dataset answers to {self.answers}")

    def train_norecon(self, ctx: StepContext) -> None:
        config = stage_config(self.mini_config.whisperpro, {"train_manifest": str(self.mini.data / "train.jsonl")},
                              self.norecon_whisperpro.parent)
        ctx.textpro("train", "whisperpro", "--config", write_stage_config(ctx, "whisperpro-norecon", config),
                    "--resume", "--no-reconstruction")

    def featurize_norecon(self, ctx: StepContext) -> None:
        settings = self.mini_config.featurize
        ctx.textpro("featurize", self.train_manifest(), "--whisperpro", self.norecon_whisperpro, "--out",
                    self.norecon_features, "--batch-size", str(settings.batch_size), "--shard-size",
                    str(settings.shard_size), "--quiet")

    def distill_norecon(self, ctx: StepContext) -> None:
        ctx.textpro(*distill_args(self.mini_config.distill, self.norecon_features, self.mini.teacher,
                                  self.norecon_distilled))

    def train_stage(self, ctx: StepContext, system: str, stage: int) -> None:
        features, distill, slm_overrides, extra = self.system_data(system)
        paths = {"features": [str(f) for f in features], **extra}
        if stage == 1:
            settings = self.mini_config.slm_stage1
            base = read_yaml(config_path(settings.config))
            paths["slm"] = {**(base.get("slm") or {}), "base_llm": str(self.mini.teacher), **slm_overrides}
            if extra.get("use_paralinguistic") is False:  # stage 1 is paralinguistic-only otherwise: nothing left
                paths["distill"] = str(distill)
            train_slm(ctx, f"{system}-stage1", 1, settings, paths, self.out / system / "stage1")
            return
        start = self.stage1_dir(system)
        hearing = self.mini_config.slm_hearing if self.config.hearing_phase else None
        if hearing and extra.get("use_paralinguistic") is not False:  # stage 2's first phase, as the mini recipe
            start = train_slm(ctx, f"{system}-hearing", 2, hearing, {**paths, "init_from": str(start)},
                              self.out / system / "hearing")
        train_slm(ctx, f"{system}-stage2", 2, self.mini_config.slm_stage2,
                  {**paths, "init_from": str(start), "distill": str(distill)}, self.out / system / "stage2")

    def evaluate(self, ctx: StepContext, system: str) -> None:
        for split in self.eval_splits():
            out = self.out / "eval" / system / split
            seed_text_responses(self.out / "eval", split, out)  # the text LLM's answers are the same for all
            args = ["eval", "--bench", self.mini.data, "--split", split, "--text-model", self.mini.teacher,
                    "--out", out]
            trained = self.ablations[system].trained
            args += ["--model", self.model_dir(system)] if trained else ["--cascade", self.mini.whisperpro]
            if self.mini_config.eval.limit:
                args += ["--limit", str(self.mini_config.eval.limit)]
            ctx.textpro(*args)

    def probe(self, ctx: StepContext) -> None:
        settings = self.config.probe
        args = [sys.executable, "-m", "textpro.eval.probe", "--bench", self.mini.data, "--out", self.out / "probe",
                "--model", settings.vanilla, "--model", self.mini.whisperpro, "--tasks", *settings.tasks, "--quiet"]
        if self.using(features="norecon", distill="norecon"):
            args += ["--model", self.norecon_whisperpro]
        if settings.train_limit:
            args += ["--train-limit", str(settings.train_limit)]
        if settings.test_limit:
            args += ["--test-limit", str(settings.test_limit)]
        ctx.command(*args)

    def efficiency(self, ctx: StepContext) -> None:
        from textpro.console import quiet_libraries

        quiet_libraries()  # this step loads models in the recipe's own process: no loading bars on its console
        measured = {}
        for system in ("textpro", "interleave", "adapter", "cascade"):
            if self.has(system):
                measured[system] = measure_efficiency(self, system, self.config.efficiency)
                ctx.log(f"{system}: {measured[system]}")
        (self.out / "efficiency.json").write_text(json.dumps(measured, indent=2) + "\n")

    def tables(self, ctx: StepContext) -> None:
        from textpro.recipe.report import write_results

        write_results(self)
        ctx.log(f"wrote {self.out / 'results.md'} and results.png")



def run_reproduce(config_file: str, out: str, mini_dir: str, start: str | None = None,
                  until: str | None = None) -> dict:
    from textpro.recipe.runner import run_steps

    config = ReproduceConfig.from_yaml(config_path(config_file))
    recipe = Reproduce(config, out, mini_dir)
    if Path(out).resolve() == Path(mini_dir).resolve():
        raise RecipeError("--out must differ from --mini-dir (the mini recipe's outputs are read, not rewritten)")
    return run_steps(recipe.steps(), out, start=start, until=until, env=recipe_env(recipe.mini_config))
