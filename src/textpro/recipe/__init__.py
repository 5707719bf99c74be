"""Orchestration: named, resumable sequences of `textpro` commands that write only under their --out.

`mini.py` is what the mini recipe does (`textpro recipe mini`), `reproduce.py` every system of the paper's tables
(`textpro recipe reproduce`, ablations as configs/ablations/*.yaml), `report.py` their tables (`textpro recipe
report`); `runner.py` runs steps, `timing.py` times them. docs/architecture.md has the whole map.
"""

from textpro.recipe.runner import RecipeError, Step, StepContext, run_steps, select

__all__ = ["RecipeError", "Step", "StepContext", "run_steps", "select"]
