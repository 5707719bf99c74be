"""The kinds of training: what every training entry point provides, and the one `run_training` they share.

A kind of training (`textpro train <kind>`) is a module (`textpro.whisperpro.training`, `textpro.slm.training`,
`textpro.train.text_llm`) with

    build(config) -> (objective, dataset, collator)               everything the loop needs, nothing trained yet
    run(config, resume=False, stop_after=None) -> TrainResult     seed, build, write config.yaml, train: `run_training`

Its objective computes the loss (`Objective.__call__`, see `loop.py`) and saves what was trained
(`Objective.save_pretrained`: the loop calls it once at the end, into `<output_dir>/model`). Its config is a
dataclass with a `train: TrainConfig` field, read by `textpro.train.config.load_config`.

To add a kind: a config dataclass, `build`, a `run` that calls `run_training`, and a subcommand in `textpro/cli.py`
(`_add_train_parser`). "Stage" means only TextPro-SLM's stage 1 and 2.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

IGNORE_INDEX = -100  # the label value the loss skips (transformers' and torch's default ignore_index)


@runtime_checkable
class Objective(Protocol):
    """An nn.Module: `objective(batch)` returns a dict of scalar tensors with a "loss" key (the rest are logged)."""

    def __call__(self, batch: dict) -> dict: ...

    def save_pretrained(self, directory) -> None: ...


@runtime_checkable
class TrainingKind(Protocol):
    """A training entry point (a module): build the objective, dataset and collator; run them on the shared loop."""

    def build(self, config) -> tuple[Objective, Any, Callable]: ...

    def run(self, config, resume: bool = False, stop_after: int | None = None): ...


def run_training(config, build: Callable[[], tuple[Objective, Any, Callable]], description: str, *,
              resume: bool = False, stop_after: int | None = None):
    """What every kind's `run` does: seed (before `build`: model init), build, write the resolved config next to
    the results it produces (`<output_dir>/config.yaml`, main process only), train. Returns the loop's
    TrainResult (the final artifacts in `<output_dir>/model`)."""
    import yaml
    from accelerate.utils import set_seed

    from textpro.train.config import config_to_dict
    from textpro.train.loop import process_state, train

    set_seed(config.train.seed)
    objective, dataset, collator = build()
    run_dir = Path(config.train.output_dir)
    if process_state().is_main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(yaml.safe_dump(config_to_dict(config), sort_keys=False))
    return train(objective, dataset, collator, config.train, lengths=dataset.lengths, resume=resume,
                 stop_after=stop_after, description=description)
