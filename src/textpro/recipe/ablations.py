"""The systems `textpro recipe reproduce` compares, as YAML overlays of the mini recipe's stage configs.

    configs/ablations/<name>.yaml      label, trained, features, distill, slm, overrides (configs/ablations/README.md)

An overlay names its inputs (which feature cache, which distillation targets) and what it changes in the stage
configs; reproduce.py turns the inputs into steps and the changes into each stage's YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from textpro.errors import ConfigError
from textpro.train.config import load_config

FEATURES = ("mini", "encoder", "norecon")  # the mini recipe's; pooled encoder states; WhisperPro w/o Recon's
DISTILL = ("mini", "norecon", "answers")  # the teacher's answers to those transcripts; to w/o Recon's; the dataset's
STAGE2_ONLY = {"kd_alpha", "kd_rows"}  # overrides that stage 1 (paralinguistic rows, no teacher) never reads


@dataclass
class Ablation:
    label: str = ""  # the row's name in the tables ("" = the file name)
    trained: bool = True  # False: nothing to train (the cascade)
    features: str = "mini"  # the feature cache the SLM trains on
    distill: str = "mini"  # the stage-2 targets
    slm: dict = field(default_factory=dict)  # merged into stage 1's `slm:` (stage 2 starts from stage 1)
    overrides: dict = field(default_factory=dict)  # top-level keys of both stages' configs
    name: str = field(default="", init=False)  # the file name, set by load_ablation

    def __post_init__(self):
        if self.features not in FEATURES:
            raise ConfigError(f"features: {self.features!r} is not one of {', '.join(FEATURES)}")
        if self.distill not in DISTILL:
            raise ConfigError(f"distill: {self.distill!r} is not one of {', '.join(DISTILL)}")

    @property
    def stage1_like_textpro(self) -> bool:
        """Stage 1 is TextPro's own (it differs at most in stage 2's targets and loss, which stage 1 does not read)."""
        return self.trained and self.features == "mini" and not self.slm and set(self.overrides) <= STAGE2_ONLY


def load_ablation(directory: str | Path, name: str) -> Ablation:
    ablation = load_config(Ablation, Path(directory) / f"{name}.yaml")
    ablation.name = name
    ablation.label = ablation.label or name
    return ablation
