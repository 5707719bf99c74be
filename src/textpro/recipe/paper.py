"""The paper recipe: dataset folders → WhisperPro → features → teacher answers → SLM stage 1 → stage 2 → evaluation,
on as many GPUs (or CPU processes) as the launcher is given, resumable step by step.

    textpro recipe paper --config configs/recipe-paper-7b.yaml --out runs/paper-7b [--dry-run] [--from S] [--until S]

Steps (the runner of the mini recipe: OUT/done/<step>.json once done, OUT/logs/<step>.log):

    import      textpro data import, one per dataset          → OUT/manifests/<name>.jsonl, OUT/eval-data/<name>/
    whisperpro  <launcher> textpro train whisperpro           → OUT/whisperpro/model
    featurize   <launcher> textpro featurize, one per cache    → OUT/features/<cache>
    distill     textpro distill (local teacher or endpoint)    → OUT/features/distill.jsonl
    slm-stage1  <launcher> textpro train slm --stage 1        → OUT/slm-stage1/model
    slm-stage2  <launcher> textpro train slm --stage 2        → OUT/slm-stage2/model (what `textpro serve` serves)
    eval        textpro eval, one per evaluation set           → OUT/eval/<name>/results.*

Each step's commands come from one place (`commands`), so --dry-run prints exactly what a run executes. Stage configs
are the shipped ones (configs/whisperpro-paper.yaml, configs/paper-7b.yaml) with the recipe's paths filled in,
written to OUT/configs/<step>.yaml just before the step runs. Training steps pass --resume and featurize / distill skip
what they already wrote, so an interrupted step continues where it stopped. The import step runs the importers in
this process (they need no model; a start-up per dataset would cost more than most imports) and skips manifests that
exist (they are written atomically).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from textpro.errors import TextproError
from textpro.recipe.config import ImportSpec, PaperRecipeConfig, StageSettings, config_path
from textpro.recipe.runner import RecipeError, Step, StepContext
from textpro.recipe.stages import stage_config, write_stage_config
from textpro.train.config import merge, read_yaml

STEPS = ("import", "whisperpro", "featurize", "distill", "slm-stage1", "slm-stage2", "eval")
WHISPERPRO_MANIFEST = "whisperpro-train"  # OUT/manifests/<this>.jsonl: the imports WhisperPro learns from


class PaperRecipe:
    """The step list and every step's commands for one config and output directory."""

    def __init__(self, config: PaperRecipeConfig, out: str | Path):
        self.config = config
        # Absolute: the models record where their parts are (the SLM its WhisperPro, stage 2 its stage 1), and they
        # are loaded later from other working directories (serve, eval).
        self.out = Path(out).resolve()
        self.manifests = self.out / "manifests"
        self.whisperpro = self.out / "whisperpro" / "model"
        self.features = self.out / "features"
        self.distilled = self.features / "distill.jsonl"
        self.stage1 = self.out / "slm-stage1" / "model"
        self.stage2 = self.out / "slm-stage2" / "model"

    def steps(self) -> list[Step]:
        described = {
            "import": "dataset folders → manifests (textpro data import)",
            "whisperpro": "fine-tune WhisperPro (ASR + mel reconstruction)",
            "featurize": "WhisperPro transcripts + prosody vectors, one cache per corpus",
            "distill": "the original text LLM answers the ASR transcripts",
            "slm-stage1": "SLM stage 1: projector only, LLM frozen",
            "slm-stage2": "SLM stage 2: projector + LLM",
            "eval": "modality gap and paralinguistic accuracy on the evaluation sets",
        }
        runs = {"import": self.run_import, "whisperpro": self.run_whisperpro, "slm-stage1": self.run_stage1,
                "slm-stage2": self.run_stage2}
        return [Step(name, runs.get(name, self._runs_commands(name)), described[name]) for name in STEPS]

    # ---- paths ---------------------------------------------------------------------------------------------------

    def manifest(self, spec: ImportSpec) -> Path:
        return self.out / "eval-data" / spec.name / "test.jsonl" if spec.eval else self.manifests / f"{spec.name}.jsonl"

    def cache_manifest(self, cache: str) -> Path:
        """The manifest a cache is featurized from: its import's own, or the concatenation of its imports."""
        members = self.config.featurize.caches[cache]
        return self.manifests / f"{members[0] if len(members) == 1 else cache}.jsonl"

    def eval_imports(self) -> list[ImportSpec]:
        chosen = self.config.eval.benches
        return [s for s in self.config.imports if s.eval and (chosen is None or s.name in chosen)]

    def config_file(self, step: str) -> Path:
        return self.out / "configs" / f"{step}.yaml"

    # ---- commands (what --dry-run prints and a run executes) -------------------------------------------------------

    def launch(self, step: str, *args) -> list[str]:
        """`textpro ARGS` under the configured launcher (all processes of one machine)."""
        launch = self.config.launch
        cli = ["-m", "textpro.cli", *map(str, args)]
        if launch.launcher == "python" or launch.processes == 1 and launch.launcher == "torchrun":
            return [sys.executable, *cli]
        if launch.launcher == "torchrun":  # --standalone: a free local port, no rendezvous server
            return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                    str(launch.processes), *cli]
        accelerate = [sys.executable, "-m", "accelerate.commands.launch"]
        if step in launch.accelerate_configs:
            accelerate += ["--config_file", str(config_path(launch.accelerate_configs[step]))]
        return [*accelerate, "--num_processes", str(launch.processes), *cli]

    def textpro(self, *args) -> list[str]:
        return [sys.executable, "-m", "textpro.cli", *map(str, args)]

    def commands(self, step: str) -> list[list[str]]:
        """Every command `step` runs, in order."""
        return getattr(self, "_" + step.replace("-", "_"))()

    def _import(self) -> list[list[str]]:
        return [self.textpro(*import_args(spec, self.manifest(spec))) for spec in self.config.imports]

    def _whisperpro(self) -> list[list[str]]:
        return [self.launch("whisperpro", "train", "whisperpro", "--config", self.config_file("whisperpro"),
                            "--resume")]

    def _featurize(self) -> list[list[str]]:
        settings = self.config.featurize
        return [self.launch("featurize", "featurize", self.cache_manifest(cache), "--whisperpro", self.whisperpro,
                            "--out", self.features / cache, "--batch-size", settings.batch_size, "--shard-size",
                            settings.shard_size, "--quiet")
                for cache in settings.caches]

    def _distill(self) -> list[list[str]]:
        settings = self.config.distill
        commands = []
        for cache in settings.caches:
            args = ["distill", self.features / cache, "--teacher", settings.teacher, "--out", self.distilled,
                    "--source", settings.source, "--max-new-tokens", settings.max_new_tokens, "--quiet"]
            if settings.endpoint:
                args += ["--teacher-endpoint", settings.endpoint, "--concurrency", settings.concurrency]
            else:
                args += ["--batch-size", settings.batch_size]
            commands.append(self.textpro(*args))
        return commands

    def _slm_stage1(self) -> list[list[str]]:
        return [self.launch("slm-stage1", "train", "slm", "--stage", "1", "--config", self.config_file("slm-stage1"),
                            "--resume")]

    def _slm_stage2(self) -> list[list[str]]:
        return [self.launch("slm-stage2", "train", "slm", "--stage", "2", "--config", self.config_file("slm-stage2"),
                            "--resume")]

    def _eval(self) -> list[list[str]]:
        settings = self.config.eval
        commands = []
        for spec in self.eval_imports():
            args = ["eval", "--bench", self.manifest(spec).parent, "--split", "test", "--model", self.stage2,
                    "--text-model", self.config.slm.base_llm, "--out", self.out / "eval" / spec.name,
                    "--max-new-tokens", settings.max_new_tokens, "--ledger", self.out / "eval" / "ledger.jsonl"]
            args += ["--limit", settings.limit] if settings.limit else []
            args += [] if settings.diagnostics else ["--no-diagnostics"]
            commands.append(self.textpro(*args))
        return commands

    # ---- stage configs (written before the step runs; --dry-run reads them without writing) ------------------------

    def whisperpro_config(self) -> dict:
        settings = self.config.whisperpro
        return stage_config(settings, {"model": settings.base,
                                       "train_manifest": str(self.manifests / f"{WHISPERPRO_MANIFEST}.jsonl")},
                            self.whisperpro.parent)

    def slm_config(self, stage: int) -> dict:
        """configs/paper-7b.yaml flattened for one stage (its `stages:` entry merged over the top level), with the
        recipe's paths and this stage's max_steps / overrides."""
        data = read_yaml(config_path(self.config.slm.config))
        stages = data.pop("stages", None) or {}
        data = merge(data, stages.get(stage, stages.get(str(stage))) or {})
        data["stage"] = stage
        data["slm"] = {**(data.get("slm") or {}), "base_llm": self.config.slm.base_llm}
        data["features"] = [str(self.features / cache) for cache in self.config.featurize.caches]
        if data.get("distill") is not None or stage == 2:  # stage 1 keeps the config's choice (the paper's: none)
            data["distill"] = str(self.distilled)
        if stage == 2:
            data["init_from"] = str(self.stage1)
        settings: StageSettings = self.config.slm.stage1 if stage == 1 else self.config.slm.stage2
        data = merge(data, settings.overrides)
        data["train"] = {**(data.get("train") or {}),
                         "output_dir": str((self.stage1 if stage == 1 else self.stage2).parent)}
        if settings.max_steps is not None:
            data["train"]["max_steps"] = settings.max_steps
        return data

    # ---- running -------------------------------------------------------------------------------------------------

    def _runs_commands(self, step: str):
        def run(ctx: StepContext) -> None:
            for argv in self.commands(step):
                ctx.command(*argv)
        return run

    def run_import(self, ctx: StepContext) -> None:
        from textpro.data.importers import import_dataset

        for spec, argv in zip(self.config.imports, self.commands("import"), strict=True):
            out = self.manifest(spec)
            if out.is_file():  # written atomically: a manifest that exists is complete
                ctx.log(f"{out} exists: kept")
                continue
            ctx.log("$ " + shlex.join(argv) + "   (in this process)")
            splits = tuple(spec.splits) if spec.splits else None
            try:
                summary = import_dataset(spec.kind, config_path(spec.dir), out, splits=splits, limit=spec.limit,
                                         voice=spec.voice, options={"progress": False, **spec.options})
            except TextproError as exc:  # the runner reports RecipeErrors with the step's log
                raise RecipeError(f"import {spec.name}: {exc}") from None
            ctx.log(f"{summary['records']} records {summary['splits']}, {summary['speakers_text']}")
        self.write_groups(ctx)

    def write_groups(self, ctx: StepContext) -> None:
        """The concatenated manifests: WhisperPro's, and each cache of several imports (audio paths stay right: every
        manifest lives in OUT/manifests, and paths are relative to it)."""
        by_name = {spec.name: spec for spec in self.config.imports}
        groups = {name: members for name, members in self.config.featurize.caches.items() if len(members) > 1}
        groups[WHISPERPRO_MANIFEST] = self.config.whisperpro.manifests
        for name, members in groups.items():
            text = "".join(self.manifest(by_name[m]).read_text(encoding="utf-8") for m in members)
            path = self.manifests / f"{name}.jsonl"
            path.with_suffix(".tmp").write_text(text, encoding="utf-8")
            path.with_suffix(".tmp").replace(path)
            ctx.log(f"{path}: {' + '.join(members)} ({text.count(chr(10))} records)")

    def run_whisperpro(self, ctx: StepContext) -> None:
        write_stage_config(ctx, "whisperpro", self.whisperpro_config())
        self._runs_commands("whisperpro")(ctx)

    def run_stage1(self, ctx: StepContext) -> None:
        write_stage_config(ctx, "slm-stage1", self.slm_config(1))
        self._runs_commands("slm-stage1")(ctx)

    def run_stage2(self, ctx: StepContext) -> None:
        write_stage_config(ctx, "slm-stage2", self.slm_config(2))
        self._runs_commands("slm-stage2")(ctx)


def import_args(spec: ImportSpec, out: Path) -> list[str]:
    """`textpro data import` arguments of one import."""
    args = ["data", "import", spec.kind, str(config_path(spec.dir)), "--out", str(out)]
    if spec.splits:
        args += ["--splits", ",".join(spec.splits)]
    if spec.limit:
        args += ["--limit", str(spec.limit)]
    if spec.voice:
        args += ["--voice", spec.voice]
    for key, value in spec.options.items():
        args += ["--option", f"{key}={json.dumps(value) if isinstance(value, bool) else value}"]
    return args + ["--quiet"]


def check_runnable(recipe: PaperRecipe) -> None:
    """Refuse, in one line, a config whose placeholders were not replaced (before any step starts)."""
    config = recipe.config
    needed = [("whisperpro.base", config.whisperpro.base), ("slm.base_llm", config.slm.base_llm),
              ("distill.teacher", config.distill.teacher)]
    needed += [(f"imports.{spec.name}.dir", spec.dir) for spec in config.imports]
    for what, value in needed:
        if not value:
            raise RecipeError(f"{what} is not set in the recipe config")
