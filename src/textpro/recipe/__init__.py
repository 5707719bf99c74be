"""Orchestration: named, resumable sequences of `textpro` commands that write only under their --out.

`mini.py` is what the mini recipe does (`textpro recipe mini`), `paper.py` the paper's model from dataset folders
on GPUs (`textpro recipe paper`; its --dry-run sizes and GPU-hours: estimate.py, plan.py), `reproduce.py` every
system of the paper's tables (`textpro recipe reproduce`, ablations as configs/ablations/*.yaml), `report.py` their
tables (`textpro recipe report`); `runner.py` runs steps, `timing.py` times them. docs/architecture.md has the map.
"""

from textpro.recipe.runner import RecipeError, Step, StepContext, run_steps, select

__all__ = ["RecipeError", "Step", "StepContext", "run_steps", "select"]
