"""`textpro recipe mini`: the mini world end to end (data → WhisperPro → featurize → teacher → distill →
SLM stage 1 → stage 2 → eval), every step skipped once done. `textpro recipe reproduce`: every system of the paper's
tables on top of it. `textpro recipe report`: its tables again, and (asked) into BENCHMARKS.md."""

from __future__ import annotations

import argparse

from textpro.recipe.config import MiniRecipeConfig, config_path
from textpro.recipe.mini import MiniRecipe
from textpro.recipe.stages import recipe_env

STEP_NAMES = [step.name for step in MiniRecipe(MiniRecipeConfig(), "").steps()]


def _mini(args: argparse.Namespace) -> int:
    from textpro.recipe.runner import run_steps

    config = MiniRecipeConfig.from_yaml(config_path(args.config))
    recipe = MiniRecipe(config, args.out)
    alone = config.threads_alone if args.threads_alone is None else args.threads_alone
    summary = run_steps(recipe.steps(), args.out, start=args.start, until=args.until, env=recipe_env(config),
                        alone_env=recipe_env(config, alone))
    minutes = summary["total_seconds"] / 60
    print(f"recipe mini: {sum(r['status'] == 'done' for r in summary['steps'])}/{len(summary['steps'])} steps done, "
          f"{minutes:.1f} min in all; timings in {args.out}/summary.md")
    return 0


def add_parser(commands) -> None:
    recipe = commands.add_parser("recipe", help="run a whole training recipe, resumable step by step")
    recipes = recipe.add_subparsers(dest="recipe", required=True)
    mini = recipes.add_parser("mini", help="the mini world end to end on CPU (" + " → ".join(STEP_NAMES) + ")",
                              description=__doc__)
    mini.add_argument("--out", default="runs/mini", help="output directory (default runs/mini)")
    mini.add_argument("--config", default="configs/recipe-mini.yaml", help="recipe sizes (default "
                      "configs/recipe-mini.yaml)")
    mini.add_argument("--from", dest="start", choices=STEP_NAMES, default=None,
                      help="re-run this step and all later ones (earlier ones must be done)")
    mini.add_argument("--until", choices=STEP_NAMES, default=None, help="stop after this step")
    mini.add_argument("--threads-alone", type=int, default=None, metavar="N",
                      help="threads of a step that runs with no background step beside it (default: the config's "
                           "threads_alone)")
    mini.set_defaults(run=_mini)

    _add_paper_parser(recipes)

    from textpro.recipe.reproduce import __doc__ as reproduce_doc

    reproduce = recipes.add_parser("reproduce", help="every system of the paper's tables on the mini world (TextPro-"
                                   "SLM, adapter, ablations, cascade), same data and steps; results.md",
                                   description=reproduce_doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    reproduce.add_argument("--out", default="runs/reproduce", help="output directory (default runs/reproduce)")
    reproduce.add_argument("--mini-dir", default="runs/mini", help="the mini recipe's output directory, reused "
                           "(default runs/mini)")
    reproduce.add_argument("--config", default="configs/reproduce-mini.yaml",
                           help="systems, probe and efficiency settings (default configs/reproduce-mini.yaml)")
    reproduce.add_argument("--from", dest="start", default=None, help="re-run this step and all later ones")
    reproduce.add_argument("--until", default=None, help="stop after this step")
    reproduce.set_defaults(run=_reproduce)

    from textpro.recipe.report import __doc__ as report_doc

    report = recipes.add_parser("report", help="re-render a reproduction's results.md / results.png; with "
                                "--update-benchmarks, replace make reproduce's section of BENCHMARKS.md",
                                description=report_doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("out", nargs="?", default="runs/reproduce",
                        help="the reproduction's output directory (default runs/reproduce)")
    report.add_argument("--update-benchmarks", nargs="?", const="BENCHMARKS.md", default=None, metavar="FILE",
                        help="replace make reproduce's section of FILE (default BENCHMARKS.md) and copy the chart and "
                        "results.json to benchmarks/results/ beside it")
    report.set_defaults(run=_report)


def _add_paper_parser(recipes) -> None:
    from textpro.recipe.paper import STEPS
    from textpro.recipe.paper import __doc__ as paper_doc

    paper = recipes.add_parser("paper", help="the paper's model from dataset folders on GPUs (import → WhisperPro → "
                               "featurize → distill → SLM stage 1 → stage 2 → eval); --dry-run: commands, data sizes, "
                               "GPU-hours", description=paper_doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    paper.add_argument("--config", default="configs/recipe-paper-7b.yaml",
                       help="datasets, models, launcher and sizes (default configs/recipe-paper-7b.yaml)")
    paper.add_argument("--out", default="runs/paper-7b", help="output directory (default runs/paper-7b)")
    paper.add_argument("--dry-run", action="store_true",
                       help="print every step's commands, the data sizes and the GPU-hour estimate; run nothing")
    paper.add_argument("--from", dest="start", choices=STEPS, default=None,
                       help="re-run this step and all later ones (earlier ones must be done)")
    paper.add_argument("--until", choices=STEPS, default=None, help="stop after this step")
    paper.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a recipe setting, dotted (e.g. --set launch.processes=4 --set estimate.mfu=0.3 "
                       "--set estimate.gpu_tflops=312); repeatable")
    paper.set_defaults(run=_paper)


def _paper(args: argparse.Namespace) -> int:
    from textpro.recipe.config import PaperRecipeConfig
    from textpro.recipe.paper import PaperRecipe, check_runnable

    config = PaperRecipeConfig.from_yaml(config_path(args.config), args.set)
    recipe = PaperRecipe(config, args.out)
    if args.dry_run:
        from textpro.recipe.plan import dry_run_text

        print(dry_run_text(recipe, args.config))
        return 0
    from textpro.recipe.runner import run_steps

    check_runnable(recipe)
    summary = run_steps(recipe.steps(), recipe.out, start=args.start, until=args.until, env=recipe_env(config))
    done = sum(r["status"] == "done" for r in summary["steps"])
    print(f"recipe paper: {done}/{len(summary['steps'])} steps done, {summary['total_seconds'] / 60:.1f} min in all; "
          f"the model: {recipe.stage2}; timings in {recipe.out}/summary.md")
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from textpro.recipe.reproduce import run_reproduce

    summary = run_reproduce(args.config, args.out, args.mini_dir, start=args.start, until=args.until)
    done = sum(r["status"] == "done" for r in summary["steps"])
    print(f"recipe reproduce: {done}/{len(summary['steps'])} steps done, {summary['total_seconds'] / 60:.1f} min in "
          f"all; tables in {args.out}/results.md")
    return 0


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from textpro.recipe.report import read_results, render, update_benchmarks

    out = Path(args.out)
    render(read_results(out), out)
    print(f"recipe report: {out / 'results.md'}, {out / 'results.png'}")
    if args.update_benchmarks:
        print(f"recipe report: updated make reproduce's section of {update_benchmarks(out, args.update_benchmarks)}")
    return 0
