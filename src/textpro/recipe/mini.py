"""The mini recipe: the whole paper on the mini world, end to end, resumable step by step.

    textpro recipe mini [--out runs/mini] [--config configs/recipe-mini.yaml] [--from STEP] [--until STEP]

Steps (each a `textpro` command in a subprocess, its output in OUT/logs/<step>.log):

    data        textpro data make-mini                      → OUT/data/{train,dev,test,test_robust}.jsonl + audio
    teacher     textpro train teacher                       → OUT/teacher/model   (the original text LLM)
    whisperpro  textpro train whisperpro                    → OUT/whisperpro/model
    featurize   textpro featurize (train split)             → OUT/features/train
    distill     textpro distill (teacher answers ASR text)  → OUT/features/distill.jsonl
    slm-stage1  textpro train slm --stage 1                 → OUT/slm-stage1/model (projector; LLM = the teacher)
    slm-stage2  textpro train slm --stage 2 (LoRA)          → OUT/slm-stage2/model
    export      adapters (float16) + example clips          → OUT/default         (what ships as the default)
    eval        textpro eval + WhisperPro WER of OUT/default → OUT/eval/{test,test_robust}/results.*, OUT/eval/wer.json

Each stage's YAML is the shipped config (configs/…) with the recipe's paths and sizes filled in, written to
OUT/configs/<step>.yaml before the command runs (so a step can be re-run by hand with exactly those settings).
Training steps always pass --resume: an interrupted step continues from its last checkpoint. The speech side
(whisperpro, featurize) and the teacher do not depend on each other: the teacher trains in the background alongside
them (one thread each: the two cores of a small machine) until distill, its first user, needs it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from textpro.recipe.runner import RecipeError, Step, StepContext
from textpro.train.config import load_config

REPO = Path(__file__).resolve().parents[3]  # configs/ lives at the repository root (src layout)


@dataclass
class DataSettings:
    seed: int = 0  # benchmark seed (same seed, same benchmark)
    hours: float = 2.0  # audio in train + dev + test (test_robust on top)
    workers: int = 1  # make-mini processes (the output does not depend on it)
    test_sizes: list[int] | None = None  # [semantic, per paralinguistic task] records of test (None: its share)


@dataclass
class StageSettings:
    config: str = ""  # the stage's YAML (relative to the repository root, or absolute)
    max_steps: int | None = None  # overrides train.max_steps (None: the config's)
    overrides: dict = field(default_factory=dict)  # more top-level keys to override in the stage config


@dataclass
class FeaturizeSettings:
    # Share of the train split's clips to featurize, taken evenly spaced within each task (1.0 = all). Featurizing
    # is a full WhisperPro decode + alignment pass per clip, the recipe's most expensive step per clip.
    fraction: float = 1.0
    task_fractions: dict = field(default_factory=dict)  # per-task overrides of `fraction` (e.g. {request: 1.0})
    batch_size: int = 8  # clips per WhisperPro batch
    shard_size: int = 256  # utterances per shard


@dataclass
class DistillSettings:
    task: str | None = "semantic"  # only these records get teacher answers (None: all)
    source: str = "asr"  # what the teacher reads: "asr" (the paper's best) or "ground_truth"
    max_new_tokens: int = 48  # teacher answer length
    batch_size: int = 8
    limit: int | None = None  # only the first N records (None: all)
    # More tasks the teacher answers into the same file, each with its own answer length (e.g. {request: 96}: the
    # everyday spoken requests, so that the SLM keeps talking like its LLM, not only picking letters)
    more_tasks: dict = field(default_factory=dict)


@dataclass
class EvalSettings:
    splits: list[str] = field(default_factory=lambda: ["test", "test_robust"])  # benchmark splits to score
    limit: int | None = None  # at most N items per task (None: all)
    wer_limit: int | None = None  # WhisperPro WER on an evenly spaced subset (None: every utterance)
    wer_base: str | None = None  # also the WER of this base Whisper on the same clips (WhisperPro must keep its ears)


@dataclass
class MiniRecipeConfig:
    threads: int = 1  # OMP_NUM_THREADS of every step (1 is fastest on a shared, loaded machine)
    data: DataSettings = field(default_factory=DataSettings)
    teacher: StageSettings = field(default_factory=lambda: StageSettings("configs/teacher-mini.yaml"))
    whisperpro: StageSettings = field(default_factory=lambda: StageSettings("configs/whisperpro-mini.yaml"))
    featurize: FeaturizeSettings = field(default_factory=FeaturizeSettings)
    distill: DistillSettings = field(default_factory=DistillSettings)
    slm_stage1: StageSettings = field(default_factory=lambda: StageSettings("configs/slm-mini-stage1.yaml"))
    slm_stage2: StageSettings = field(default_factory=lambda: StageSettings("configs/slm-mini-stage2.yaml"))
    eval: EvalSettings = field(default_factory=EvalSettings)

    @classmethod
    def from_yaml(cls, path) -> MiniRecipeConfig:
        return load_config(cls, path)


# ---- helpers ----------------------------------------------------------------------------------------------------

def config_path(name: str) -> Path:
    """A config path as given when it exists, else relative to the repository root (configs/…)."""
    path = Path(name)
    return path if path.is_absolute() or path.is_file() else REPO / path


def stage_config(settings: StageSettings, paths: dict, output_dir: Path) -> dict:
    """The shipped stage config as a dict, with the recipe's paths (`paths`: top-level keys) and sizes."""
    data = yaml.safe_load(config_path(settings.config).read_text()) or {}
    data.update(paths)
    for key, value in settings.overrides.items():  # mappings merge one level deep (train: {batch_size: …})
        data[key] = {**data[key], **value} if isinstance(value, dict) and isinstance(data.get(key), dict) else value
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


def has_command(*words: str) -> str | None:
    """None when `textpro WORDS…` exists in this build, else one line naming what is missing."""
    from textpro.cli import build_parser

    parser = build_parser()
    for depth, word in enumerate(words):
        choices = next((a.choices for a in parser._actions if getattr(a, "choices", None) and
                        isinstance(a.choices, dict)), {})
        if word not in choices:
            return (f"this build has no `textpro {' '.join(words[:depth + 1])}` yet (the TextPro-SLM commands: "
                    "src/textpro/slm/)")
        parser = choices[word]
    return None


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


# ---- the steps --------------------------------------------------------------------------------------------------

class MiniRecipe:
    """The step list for one output directory and config."""

    def __init__(self, config: MiniRecipeConfig, out: str | Path):
        self.config = config
        self.out = Path(out)
        self.data = self.out / "data"
        self.teacher = self.out / "teacher" / "model"
        self.whisperpro = self.out / "whisperpro" / "model"
        self.features = self.out / "features" / "train"
        self.distilled = self.out / "features" / "distill.jsonl"
        self.stage1 = self.out / "slm-stage1" / "model"
        self.stage2 = self.out / "slm-stage2" / "model"
        self.default = self.out / "default"

    def steps(self) -> list[Step]:
        return [
            Step("data", self.make_data, "synthesize the mini world (make-mini)"),
            Step("teacher", self.train_teacher, "fine-tune the text LLM on the train questions (the teacher)",
                 requires=lambda: has_command("train", "teacher"), background_until="distill"),
            Step("whisperpro", self.train_whisperpro, "fine-tune WhisperPro on the train split",
                 requires=lambda: has_command("train", "whisperpro")),
            Step("featurize", self.featurize, "WhisperPro transcripts + prosody vectors of the train split",
                 requires=lambda: has_command("featurize")),
            Step("distill", self.distill, "the teacher answers the ASR transcripts",
                 requires=lambda: has_command("distill")),
            Step("slm-stage1", self.slm_stage1, "SLM stage 1: projector only, LLM frozen",
                 requires=lambda: has_command("train", "slm")),
            Step("slm-stage2", self.slm_stage2, "SLM stage 2: projector + LoRA",
                 requires=lambda: has_command("train", "slm")),
            Step("export", self.export, "pack the adapters + example clips into OUT/default (the embedded default)"),
            Step("eval", self.evaluate, "modality gap, paralinguistic accuracy, WhisperPro WER (of OUT/default)",
                 requires=lambda: has_command("eval")),
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
        ctx.textpro("train", "teacher", "--config", write_stage_config(ctx, "teacher", config), "--resume")

    def train_whisperpro(self, ctx: StepContext) -> None:
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
        for task, max_new_tokens in settings.more_tasks.items():  # appended to the same file (ids are unique)
            more = DistillSettings(task, settings.source, int(max_new_tokens), settings.batch_size, settings.limit)
            ctx.textpro(*distill_args(more, self.features, self.teacher, self.distilled))

    def slm_stage1(self, ctx: StepContext) -> None:
        base = yaml.safe_load(config_path(self.config.slm_stage1.config).read_text()) or {}
        slm = {**(base.get("slm") or {}), "base_llm": str(self.teacher)}  # the teacher is the SLM's starting point
        config = stage_config(self.config.slm_stage1, {"features": [str(self.features)], "slm": slm},
                              self.stage1.parent)
        ctx.textpro("train", "slm", "--stage", "1", "--config", write_stage_config(ctx, "slm-stage1", config),
                    "--resume")

    def slm_stage2(self, ctx: StepContext) -> None:
        config = stage_config(self.config.slm_stage2, {"init_from": str(self.stage1), "features": [str(self.features)],
                                                       "distill": str(self.distilled)}, self.stage2.parent)
        ctx.textpro("train", "slm", "--stage", "2", "--config", write_stage_config(ctx, "slm-stage2", config),
                    "--resume")

    def export(self, ctx: StepContext) -> None:
        from textpro.recipe.export import directory_megabytes, export_default

        export_default(self.stage2, self.teacher, self.whisperpro, self.data, self.default)
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
        if problem := slm_responder_missing():
            raise RecipeError(problem)
        for split in settings.splits:
            args = ["eval", "--bench", self.data, "--split", split, "--model", self.default, "--text-model",
                    self.default / "teacher", "--out", self.out / "eval" / split,
                    "--ledger", self.out / "eval" / "ledger.jsonl"]  # every test evaluation, appended
            if settings.limit:
                args += ["--limit", str(settings.limit)]
            ctx.textpro(*args)


def slm_responder_missing() -> str | None:
    """None when `textpro eval --model` can run TextPro-SLM checkpoints, else one line naming the missing piece."""
    import textpro.slm

    if hasattr(textpro.slm, "SLMResponder"):
        return None
    return ("`textpro eval --model` cannot run TextPro-SLM checkpoints yet: textpro.slm has no SLMResponder "
            "(plug point: textpro.eval.responders.speech_responder_for_model); WhisperPro WER is in eval/wer.json")


def recipe_env(config: MiniRecipeConfig) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(config.threads), MKL_NUM_THREADS=str(config.threads),
               TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1")
    return env
