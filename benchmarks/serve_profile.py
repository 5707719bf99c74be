"""Where a served chat request's model time goes: WhisperPro (mel, encoder + decoding, alignment), the clip analysis,
the LLM prefill and the LLM decoding steps, for groups of 1, 4, 8 and 16 requests run together by the continuous
engine (what `textpro serve --continuous-batching` runs on its model thread).

    .venv/bin/python benchmarks/serve_profile.py [--groups 1,4,8,16] [--max-tokens 24] [--repeats 5] [--threads 1]
        [--alone]   # also one request at a time: batching off's path (generate) against the continuous engine's

Each stage is timed in the model thread's CPU time (`time.thread_time`) as well as wall time: on a machine shared
with other jobs the wall time moves with their load, the thread's CPU time much less. Per group size: milliseconds
per request for each stage and in all, and the LLM decoding step's cost per row. The model is the untrained
default (real Whisper tiny.en + SmolLM2-135M), the clips the five piper questions of serve_batching.py, greedy,
`max_tokens` fixed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

from serve_batching import QUESTIONS, spoken_wav


class Stages:
    """Thread CPU and wall seconds per stage label, and how many times each ran."""

    def __init__(self):
        self.cpu, self.wall, self.calls = defaultdict(float), defaultdict(float), defaultdict(int)
        self._open: list[str] = []

    @contextmanager
    def timed(self, label: str):
        # a stage inside another (the encoder inside decoding) is counted once, in the outer stage's label
        if self._open:
            yield
            return
        self._open.append(label)
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            yield
        finally:
            self.cpu[label] += time.thread_time() - cpu
            self.wall[label] += time.perf_counter() - wall
            self.calls[label] += 1
            self._open.pop()

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            with self.timed(label):
                return original(*args, **kwargs)

        setattr(owner, name, timed)


def instrument(stages: Stages) -> None:
    """Times the stages of ContinuousEngine.advance by wrapping the functions each stage is."""
    import textpro.serve.engine as engine_module
    import textpro.whisperpro.transcribe as transcribe_module
    from textpro.serve.continuous import ContinuousEngine
    from textpro.whisperpro.model import WhisperPro
    from textpro.whisperpro.transcribe import Transcriber

    stages.wrap(Transcriber, "_features", "whisperpro: log-mel")
    stages.wrap(WhisperPro, "greedy_decode", "whisperpro: encoder + greedy decoding")
    stages.wrap(transcribe_module, "token_start_times", "whisperpro: alignment pass")
    stages.wrap(transcribe_module, "split_at_pauses", "whisperpro: pause split")
    stages.wrap(Transcriber, "_speech_tokens", "whisperpro: words")
    stages.wrap(engine_module, "analyze_clip", "clip analysis (F0, energy)")
    stages.wrap(ContinuousEngine, "_over_budget", "prompt budget check")
    stages.wrap(ContinuousEngine, "_prefill", "llm: prefill")
    stages.wrap(ContinuousEngine, "_step", "llm: decoding steps")


def run_group(engine, samples: list, size: int, max_tokens: int, stages: Stages, first: int = 0) -> float:
    """One group of `size` chat jobs admitted together and decoded to the end, on the clips from index `first` on
    (cycling); (wall seconds, answer tokens)."""
    from textpro.serve.engine import ChatJob
    from textpro.serve.schemas import Generation

    generation = Generation(max_tokens, do_sample=False, temperature=1.0, top_p=1.0)
    jobs = [ChatJob(samples[(first + i) % len(samples)], None, generation) for i in range(size)]
    done = []
    start = time.perf_counter()
    engine.advance(jobs, lambda job, result: done.append(result))
    assert len(done) == size and not any(isinstance(r, Exception) for r in done), done
    return time.perf_counter() - start, sum(result.completion_tokens for result in done)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default="1,4,8,16", help="requests run together (default 1,4,8,16)")
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=5, help="groups run per size (default 5: a group of 1 then "
                        "answers each of the five questions once)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--alone", action="store_true",
                        help="also time batching off's path (Engine.run on one request: generate), per request, "
                             "alternating with the continuous engine on the same request")
    parser.add_argument("--out", default="benchmarks/results/serve_profile.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from textpro.audio import load_audio
    from textpro.console import quiet_libraries
    from textpro.pipeline import TextPro
    from textpro.serve.continuous import ContinuousEngine
    from textpro.serve.engine import untrained_model

    quiet_libraries()
    torch.set_num_threads(args.threads)
    served = untrained_model(TextPro.untrained())
    samples = [load_audio(spoken_wav(q)) for q in QUESTIONS]
    sizes = [int(g) for g in args.groups.split(",")]
    engine = ContinuousEngine(served, max_rows=max(sizes))
    run_group(engine, samples, 2, args.max_tokens, Stages())  # warm-up, untimed
    stages_by_size = {}
    instrument(timer := _Switch())
    print(f"torch threads {torch.get_num_threads()}; max_tokens {args.max_tokens}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    for size in sizes:
        timer.stages = stages = Stages()
        # each repeat starts at the next clips, so that a group of 1 does not measure one question only
        walls, tokens = zip(*(run_group(engine, samples, size, args.max_tokens, stages, r * size)
                              for r in range(args.repeats)), strict=True)
        stages_by_size[size] = {"wall_s": walls, "requests": size * args.repeats, "answer_tokens": sum(tokens),
                                "cpu_s": dict(stages.cpu), "stage_wall_s": dict(stages.wall),
                                "calls": dict(stages.calls)}
        print(report(size, stages, size * args.repeats, sum(walls), sum(tokens)), flush=True)
    alone = alone_costs(served, samples, args.max_tokens, args.repeats) if args.alone else None
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "groups": stages_by_size, "batching_off": alone}, indent=2)
                   + "\n")
    print(f"results: {out}")
    return 0


def alone_costs(served, samples: list, max_tokens: int, repeats: int) -> dict:
    """Thread CPU and wall seconds per request of one request at a time, batching off's path (Engine.run:
    WhisperPro, then transformers' generate) against the continuous engine's (a group of 1), taking turns per
    request so that load drift hits both alike."""
    from textpro.serve.continuous import ContinuousEngine
    from textpro.serve.engine import ChatJob, Engine
    from textpro.serve.schemas import Generation

    generation = Generation(max_tokens, do_sample=False, temperature=1.0, top_p=1.0)
    engines = {"off": Engine(served), "continuous": ContinuousEngine(served, max_rows=1)}
    run = {"off": lambda job: engines["off"].run([job]),
           "continuous": lambda job: engines["continuous"].advance([job], lambda *_: None)}
    cpu, wall = defaultdict(list), defaultdict(list)
    for r in range(repeats):
        order = list(run) if r % 2 == 0 else list(run)[::-1]
        for name in order:
            job = ChatJob(samples[r % len(samples)], None, generation)
            started_cpu, started = time.thread_time(), time.perf_counter()
            run[name](job)
            cpu[name].append(time.thread_time() - started_cpu)
            wall[name].append(time.perf_counter() - started)
    figures = {name: {"cpu_ms": 1000 * statistics.median(cpu[name]), "wall_ms": 1000 * statistics.median(wall[name])}
               for name in run}
    print(f"\none request at a time, median of {repeats}: batching off (generate) {figures['off']['cpu_ms']:.0f} ms "
          f"cpu / {figures['off']['wall_ms']:.0f} ms wall; continuous {figures['continuous']['cpu_ms']:.0f} ms cpu / "
          f"{figures['continuous']['wall_ms']:.0f} ms wall; cpu ratio continuous/off "
          f"{figures['continuous']['cpu_ms'] / figures['off']['cpu_ms']:.3f}", flush=True)
    return figures


class _Switch(Stages):
    """The wrappers are installed once; the Stages they record into is switched per group size."""

    def __init__(self):
        self.stages = Stages()

    def timed(self, label: str):
        return self.stages.timed(label)


def report(size: int, stages: Stages, requests: int, wall: float, tokens: int) -> str:
    lines = [f"\ngroup of {size}: {wall / requests * 1000:.0f} ms wall per request "
             f"({requests / wall:.2f} req/s)", f"  {'stage':<40} {'cpu ms/req':>10} {'wall ms/req':>11}"]
    for label in sorted(stages.cpu, key=lambda k: -stages.cpu[k]):
        lines.append(f"  {label:<40} {stages.cpu[label] / requests * 1000:>10.1f} "
                     f"{stages.wall[label] / requests * 1000:>11.1f}")
    total = sum(stages.cpu.values())
    lines.append(f"  {'all stages':<40} {total / requests * 1000:>10.1f} "
                 f"{sum(stages.wall.values()) / requests * 1000:>11.1f}")
    steps = stages.calls.get("llm: decoding steps", 0)
    if steps:
        decoding = stages.cpu["llm: decoding steps"]
        lines.append(f"  llm decoding: {steps} steps, {decoding / steps * 1000:.1f} ms cpu per step; {tokens} answer "
                     f"tokens, {decoding / max(1, tokens - requests) * 1000:.1f} ms cpu per token decoded "
                     "(the first comes from the prefill)")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
