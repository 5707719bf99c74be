"""Recipes: named, resumable sequences of textpro steps (`textpro recipe mini`). See `runner.py` and `mini.py`."""

from textpro.recipe.runner import RecipeError, Step, StepContext, run_steps, select

__all__ = ["RecipeError", "Step", "StepContext", "run_steps", "select"]
