"""A resumable sequence of named steps, each skipped once done.

    OUT/done/<step>.json     the done marker, written last: {"step", "seconds", "finished"}; its presence = done
    OUT/logs/<step>.log      everything the step printed (commands run as subprocesses write here)
    OUT/summary.json, .md    per-step status and seconds, rewritten after every step (timing.py)

A step that fails leaves no marker, so the next run starts again at that step (training steps resume from their own
checkpoints). `start` re-runs that step and every later one (their markers are cleared first) and needs the earlier
ones done; `until` stops after that step. A step with `background_until` runs in a thread alongside the next
steps until the step it names is about to start. If the foreground has to wait for it there, it is told to take
both cores (`alone_env`'s threads) for the rest of its run: SIGUSR1 to its command, which `follow_threads_signal`
turns into `torch.set_num_threads` (on 2 cores the teacher otherwise trained its last ~8 minutes on one).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from textpro.errors import TextproError
from textpro.recipe.timing import TIME_FORMAT, done_marker, format_seconds, step_seconds, write_summary


class RecipeError(TextproError):
    """A recipe step failed or cannot run; the message is one line and names the step (and its log)."""


@dataclass
class StepContext:
    out: Path  # the recipe's output directory
    log_path: Path  # this step's log file
    env: dict[str, str]  # environment for subprocesses
    process: subprocess.Popen | None = None  # the command running now

    def log(self, message: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(message.rstrip("\n") + "\n")

    def command(self, *argv: str | os.PathLike) -> None:
        """Run a command, its output appended to the step's log; a non-zero exit raises RecipeError."""
        argv = [str(a) for a in argv]
        self.log("$ " + " ".join(argv))
        with open(self.log_path, "a", encoding="utf-8") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env)
            try:
                code = self.process.wait()
            except BaseException:
                self.process.kill()
                raise
            finally:
                self.process = None
        if code != 0:
            raise RecipeError(f"`{' '.join(argv[:4])} …` exited with status {code}")

    def textpro(self, *args: str | os.PathLike) -> None:
        """Run `textpro ARGS` with this interpreter."""
        self.command(sys.executable, "-m", "textpro.cli", *args)

    def take_threads(self, env: dict[str, str]) -> bool:
        """From now on run with `env`'s threads: later commands start with `env`; the running one is asked to switch
        (SIGUSR1, only once it catches it: the signal's default action would end it). True if it was asked."""
        self.env = dict(env)
        process = self.process
        if process is None or process.poll() is not None or not _catches_sigusr1(process.pid):
            return False
        process.send_signal(signal.SIGUSR1)
        return True


# A background step's commands get this variable (the threads they should take once alone) and install the handler.
THREADS_ENV = "TEXTPRO_THREADS_ALONE"


def follow_threads_signal() -> None:
    """In a command the runner started in the background: on SIGUSR1 take THREADS_ENV threads (see the docstring)."""
    threads = os.environ.get(THREADS_ENV, "")
    if not threads.isdigit() or not hasattr(signal, "SIGUSR1"):
        return

    def take(signum, frame) -> None:
        # Runs in the main thread between Python bytecodes, so never inside a parallel torch op.
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = threads  # torch not imported yet: read later
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(int(threads))

    signal.signal(signal.SIGUSR1, take)


def _catches_sigusr1(pid: int) -> bool:
    """Whether the process has a SIGUSR1 handler installed (Linux /proc; elsewhere False: it is not asked)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next((line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), "0")
    return bool(int(caught, 16) >> (signal.SIGUSR1 - 1) & 1)


@dataclass
class Step:
    name: str
    run: Callable[[StepContext], None]
    description: str = ""
    # Checked before the step runs (e.g. that a CLI command exists): returns None, or one line saying what is missing.
    requires: Callable[[], str | None] | None = None
    # Run this step in a background thread, alongside the steps after it, until the step named here (its first
    # user) is about to start. On 2 cores two single-threaded steps side by side take ~half the wall time.
    background_until: str | None = None


def is_done(out: Path, name: str) -> bool:
    return done_marker(out, name).is_file()


def select(steps: Sequence[Step], start: str | None = None, until: str | None = None) -> list[Step]:
    names = [s.name for s in steps]
    for given in (start, until):
        if given is not None and given not in names:
            raise RecipeError(f"unknown step {given!r} (steps: {', '.join(names)})")
    first = names.index(start) if start else 0
    last = names.index(until) if until else len(steps) - 1
    if first > last:
        raise RecipeError(f"--from {start} comes after --until {until}")
    return list(steps[first:last + 1])


def run_steps(steps: Sequence[Step], out: str | os.PathLike, *, start: str | None = None, until: str | None = None,
              env: dict[str, str] | None = None, alone_env: dict[str, str] | None = None,
              echo: Callable[[str], None] = print) -> dict:
    """Run the selected steps in order, skipping those already done. Returns the summary.

    `env` is every subprocess's environment; `alone_env` (None: env) that of a foreground step that starts while no
    background step runs, e.g. with both cores' threads where two steps side by side get one each."""
    out = Path(out)
    chosen = select(steps, start, until)
    if start:
        earlier = [s.name for s in steps[:[s.name for s in steps].index(start)]]
        missing = [name for name in earlier if not is_done(out, name)]
        if missing:
            raise RecipeError(f"--from {start}: earlier step {missing[0]!r} is not done (run without --from first)")
        for step in steps[[s.name for s in steps].index(start):]:
            done_marker(out, step.name).unlink(missing_ok=True)
    (out / "done").mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ if env is None else env)
    alone_env = env if alone_env is None else dict(alone_env)

    lock = threading.Lock()  # the summary file is written by the background step too
    # Background steps queue on one worker thread (one after another, beside the foreground steps).
    background: list[tuple[Step, Future]] = []
    contexts: dict[str, StepContext] = {}  # each running step's context, by name
    background_env = {**env, THREADS_ENV: alone_env.get("OMP_NUM_THREADS", "")} if alone_env != env else env
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            for step in chosen:
                for item in [b for b in background if b[0].background_until == step.name]:
                    background.remove(item)
                    _wait(item, echo, contexts, None if background else alone_env)
                if step.background_until and not is_done(out, step.name):
                    echo(f"[{step.name}] runs in the background until {step.background_until}")
                    background.append((step, pool.submit(_run_step, step, steps, out, background_env, echo, lock,
                                                         contexts)))
                    continue
                alone = all(future.done() for _, future in background)
                _run_step(step, steps, out, alone_env if alone else env, echo, lock, contexts)
            for item in background:  # --until stopped before a background step's first user
                _wait(item, echo, contexts, alone_env)
        except BaseException:
            for _, future in background:
                future.cancel()
            raise
    return write_summary(out, steps)


def _wait(item: tuple[Step, Future], echo: Callable[[str], None], contexts: dict[str, StepContext],
          alone_env: dict[str, str] | None) -> None:
    """Wait for a background step; with `alone_env` (nothing else runs now) it takes those threads meanwhile."""
    step, future = item
    if not future.done():
        echo(f"[{step.name}] waiting for the background step to finish")
        context = contexts.get(step.name)
        if alone_env is not None and context is not None and context.take_threads(alone_env):
            echo(f"[{step.name}] runs alone now: asked to take {alone_env.get('OMP_NUM_THREADS')} threads")
    future.result()  # re-raises its RecipeError


def _run_step(step: Step, steps: Sequence[Step], out: Path, env: dict[str, str], echo: Callable[[str], None],
              lock: threading.Lock, contexts: dict[str, StepContext]) -> None:
    if is_done(out, step.name):
        echo(f"[{step.name}] done already ({step_seconds(out, step.name)})")
        return
    if step.requires is not None and (problem := step.requires()):
        with lock:
            write_summary(out, steps, {step.name: "cannot run"})
        raise RecipeError(f"step {step.name}: {problem}")
    log_path = out / "logs" / f"{step.name}.log"
    echo(f"[{step.name}] {step.description} (log: {log_path})")
    started = time.perf_counter()
    context = contexts[step.name] = StepContext(out, log_path, env)
    try:
        step.run(context)
    except RecipeError as exc:
        with lock:
            write_summary(out, steps, {step.name: "failed"})
        raise RecipeError(f"step {step.name} failed: {exc} (see {log_path})") from None
    seconds = time.perf_counter() - started
    marker = {"step": step.name, "seconds": round(seconds, 1), "finished": time.strftime(TIME_FORMAT)}
    with lock:  # the other worker reads every marker when it writes the summary: never a half-written one
        path = done_marker(out, step.name)
        path.with_suffix(".tmp").write_text(json.dumps(marker) + "\n")
        path.with_suffix(".tmp").replace(path)
        write_summary(out, steps)
    echo(f"[{step.name}] done in {format_seconds(seconds)}")
