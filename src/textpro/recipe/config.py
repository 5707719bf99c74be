"""The recipes' settings: what `configs/recipe-*.yaml` (the mini recipe) and `configs/reproduce-*.yaml` (every system
of the paper's tables) hold. Each training stage still reads its own shipped config (configs/…); these say which one,
with which paths and sizes. The ablations are YAML overlays of those stage configs: `configs/ablations/` (ablations.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from textpro.errors import ConfigError
from textpro.train.config import load_config

# configs/ lives at the repository root (src layout). Recipes only *read* there; they write under their --out.
REPO = Path(__file__).resolve().parents[3]
SYSTEMS = ("textpro", "interleave", "adapter", "no-recon", "no-distill", "no-para", "cascade")  # the shipped overlays
BACKGROUND = ("textpro", "interleave", "no-recon", "no-para")


def config_path(name: str | Path) -> Path:
    """A config path as given when it exists, else relative to the repository root (configs/…)."""
    path = Path(name)
    return path if path.is_absolute() or path.is_file() or path.is_dir() else REPO / path


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


@dataclass
class ProbeSettings:
    vanilla: str = "whisper-tiny.en"  # the Whisper WhisperPro was fine-tuned from
    tasks: list[str] = field(default_factory=lambda: ["gender", "pitch", "rate", "style"])
    train_limit: int | None = 100  # train clips per task
    test_limit: int | None = None  # test clips per task (None: all)


@dataclass
class EfficiencySettings:
    split: str = "test"
    queries: int = 24  # spoken items timed one at a time per system (spread over the tasks)
    max_new_tokens: int = 32


@dataclass
class ReproduceConfig:
    mini_config: str = "configs/recipe-mini.yaml"  # the mini recipe whose outputs and stage settings are reused
    # The systems to build and compare, each a YAML overlay in `ablations` (configs/ablations/<name>.yaml): its label,
    # which features and distillation targets it trains on, and what it changes in the stage configs.
    systems: list[str] = field(default_factory=lambda: list(SYSTEMS))
    ablations: str = "configs/ablations"  # the overlays' directory (relative to the repository root, or absolute)
    adapter_encoder: str | None = None  # Whisper whose encoder the adapter reads (None: the mini WhisperPro)
    eval_splits: list[str] | None = None  # benchmark splits every system is scored on (None: the mini recipe's)
    reuse_mini_textpro: bool = True  # the "textpro" system is the mini recipe's own slm-stage2 (same settings)
    # Deprecated: the tables step writes only under --out now; `textpro recipe report OUT --update-benchmarks FILE`
    # replaces make reproduce's section of FILE. Still read (one release), ignored with a message.
    benchmarks_md: str | None = None
    # Two lanes, one core each (runner.py): these systems train and are evaluated on the background worker, the others
    # in the foreground; with the adapter (the slowest, ~15 s/step) in the foreground both lanes take about as long.
    background: list[str] = field(default_factory=lambda: list(BACKGROUND))
    probe: ProbeSettings = field(default_factory=ProbeSettings)
    efficiency: EfficiencySettings = field(default_factory=EfficiencySettings)

    def __post_init__(self):
        known = sorted(p.stem for p in config_path(self.ablations).glob("*.yaml"))
        unknown = sorted(set(self.systems) - set(known))
        if unknown:
            raise ConfigError(f"unknown system(s) {', '.join(unknown)}: no {self.ablations}/<name>.yaml (choose from "
                              f"{', '.join(known)})")
        if self.benchmarks_md is not None:
            print(f"warning: benchmarks_md is deprecated and ignored: the recipe writes only under its --out; run "
                  f"`textpro recipe report OUT --update-benchmarks {self.benchmarks_md}`", file=sys.stderr)

    @classmethod
    def from_yaml(cls, path) -> ReproduceConfig:
        return load_config(cls, path)
