"""Does a recipe step that is told mid-run to take both cores (SIGUSR1 → `torch.set_num_threads`, recipe/runner.py)
train as fast as one started with both? The mini recipe's teacher trains in the background at 1 thread beside the
speech side, then ~8 minutes alone; since session 37 the runner tells it to take 2 threads there.

    .venv/bin/python benchmarks/recipe_threads.py [--config runs/mini400/configs/teacher.yaml] [--steps 40] \
        [--out benchmarks/results/recipe_threads.json]

Three runs of the real `textpro train text-llm` command on the recipe's teacher config (same seed: the same batches
in the same order), one after another, each logging seconds per step every 10 steps (log.jsonl):
  one        OMP_NUM_THREADS=1 throughout (the background lane before session 37)
  switched   started at 1 thread; told by the runner (`StepContext.take_threads`) once step 10 is logged
  two        OMP_NUM_THREADS=2 from the start
Reported: each run's seconds per step over the steps after the switch (11..STEPS), and the ratios one/switched and
one/two. The chat targets are copied from the config's own run directory, so no run generates them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from textpro.recipe.config import MiniRecipeConfig  # noqa: E402
from textpro.recipe.runner import THREADS_ENV, StepContext  # noqa: E402
from textpro.recipe.stages import recipe_env  # noqa: E402
from textpro.train.config import read_yaml  # noqa: E402

SWITCH_AFTER = 10  # the first logged window: the model is loaded and warm


def logged(run_dir: Path) -> list[dict]:
    path = run_dir / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def run(name: str, config: Path, chat_targets: Path, steps: int, work: Path) -> dict:
    run_dir = work / name
    run_dir.mkdir(parents=True)
    shutil.copy(chat_targets, run_dir / "chat_targets.jsonl")
    threads = {"one": 1, "switched": 1, "two": 2}[name]
    env = recipe_env(MiniRecipeConfig(), threads)
    if name == "switched":
        env[THREADS_ENV] = "2"
    ctx = StepContext(work, work / f"{name}.log", env)
    argv = ["train", "text-llm", "--config", str(config), "--output", str(run_dir),
            "--set", f"train.max_steps={steps}", "--set", "train.log_every=10", "--set", "train.save_every=100000"]
    worker = threading.Thread(target=ctx.textpro, args=argv)
    started = time.perf_counter()
    worker.start()
    asked = None
    while worker.is_alive():
        if name == "switched" and asked is None and any(r["step"] >= SWITCH_AFTER for r in logged(run_dir)):
            asked = ctx.take_threads(recipe_env(MiniRecipeConfig(), 2))
        time.sleep(0.2)
    worker.join()
    records = [r for r in logged(run_dir) if r["step"] > SWITCH_AFTER]
    if not records:
        raise SystemExit(f"{name}: no steps after {SWITCH_AFTER} logged (see {work / f'{name}.log'})")
    seconds = statistics.mean(r["seconds_per_step"] for r in records)  # 10-step windows
    print(f"{name:9s} {seconds:.3f} s/step over steps {SWITCH_AFTER + 1}..{steps}"
          + (f" (asked to switch: {asked})" if name == "switched" else ""), flush=True)
    return {"seconds_per_step": round(seconds, 4), "windows": [r["seconds_per_step"] for r in records],
            "wall_seconds": round(time.perf_counter() - started, 1), **({"asked": asked} if asked is not None else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=REPO / "runs/mini400/configs/teacher.yaml")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/recipe_threads.json")
    args = parser.parse_args()
    chat_targets = Path(read_yaml(args.config)["train"]["output_dir"]) / "chat_targets.jsonl"
    if not chat_targets.is_file():
        raise SystemExit(f"{chat_targets} missing: run the recipe's teacher step once first")
    with tempfile.TemporaryDirectory() as work:
        results = {name: run(name, args.config, chat_targets, args.steps, Path(work))
                   for name in ("one", "switched", "two")}
    one = results["one"]["seconds_per_step"]
    summary = {"config": str(args.config), "steps": args.steps, "switch_after": SWITCH_AFTER, "runs": results,
               "speedup_switched": round(one / results["switched"]["seconds_per_step"], 3),
               "speedup_two": round(one / results["two"]["seconds_per_step"], 3)}
    print(f"speed-up over one thread: switched {summary['speedup_switched']}x, two from the start "
          f"{summary['speedup_two']}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
