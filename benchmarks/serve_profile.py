"""Where a served chat request's model time goes: WhisperPro (mel, encoder + decoding, alignment), the clip analysis,
the LLM prefill and the LLM decoding steps, for groups of 1, 4, 8 and 16 requests run together by the continuous
engine (what `textpro serve --continuous-batching` runs on its model thread).

    .venv/bin/python benchmarks/serve_profile.py [--groups 1,4,8,16] [--max-tokens 24] [--repeats 5] [--threads 1]
        [--alone]   # also one request at a time: batching off's path (generate) against the continuous engine's
    .venv/bin/python benchmarks/serve_profile.py --groups none --alone --pairs 20   # that A/B only, 20 pairs

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
    parser.add_argument("--groups", default="1,4,8,16",
                        help="requests run together (default 1,4,8,16; none: no group profile, for --alone only)")
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=5, help="groups run per size (default 5: a group of 1 then "
                        "answers each of the five questions once)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--alone", action="store_true",
                        help="also time batching off's path (Engine.run on one request: generate), per request, "
                             "alternating with the continuous engine on the same request")
    parser.add_argument("--pairs", type=int, default=None,
                        help="with --alone: requests per path, taken in turns (default: --repeats)")
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
    sizes = [] if args.groups == "none" else [int(g) for g in args.groups.split(",")]
    engine = ContinuousEngine(served, max_rows=max(sizes, default=2))
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
    alone = alone_costs(served, samples, args.max_tokens, args.pairs or args.repeats) if args.alone else None
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "groups": stages_by_size, "batching_off": alone}, indent=2)
                   + "\n")
    print(f"results: {out}")
    return 0


def alone_costs(served, samples: list, max_tokens: int, pairs: int) -> dict:
    """Thread CPU and wall seconds per request of one request at a time, batching off's path (Engine.run:
    WhisperPro, then transformers' generate) against the continuous engine's (a group of 1), taking turns per
    request (on the same clip, the first of each pair alternating) so that load drift hits both alike. Each
    request's CPU is also split into hearing (WhisperPro + clip analysis, the same code on both paths), the LLM's
    forward calls (prefill and steps: the same model on the same inputs) and the rest ("loop": the prompt and its
    embeddings, then generate's or the engine's own work per step: token choice, masks, positions, cache
    bookkeeping, and the answer's decoding)."""
    from textpro.serve.continuous import ContinuousEngine
    from textpro.serve.engine import ChatJob, Engine
    from textpro.serve.schemas import Generation

    generation = Generation(max_tokens, do_sample=False, temperature=1.0, top_p=1.0)
    engines = {"off": Engine(served), "continuous": ContinuousEngine(served, max_rows=1)}
    hearing, forward = Stages(), {"cpu_s": 0.0}
    for name, engine in engines.items():
        hearing.wrap(engine, "_hear", name)
    llm = served.pipeline.slm.llm
    llm.register_forward_pre_hook(lambda *_: forward.__setitem__("started", time.thread_time()))
    llm.register_forward_hook(lambda *_: forward.__setitem__("cpu_s", forward["cpu_s"] + time.thread_time()
                                                             - forward["started"]))

    def continuous(job):
        delivered = []
        engines["continuous"].advance([job], lambda _, result: delivered.append(result))
        return delivered[0]

    run = {"off": lambda job: engines["off"].run([job])[0], "continuous": continuous}
    samples_by_path = {name: {"cpu_s": [], "llm_cpu_s": [], "llm_forward_cpu_s": [], "loop_cpu_s": [],
                              "wall_s": []} for name in run}
    for r in range(pairs):
        answers = {}
        for name in list(run) if r % 2 == 0 else list(run)[::-1]:
            job = ChatJob(samples[r % len(samples)], None, generation)
            heard_before, forward["cpu_s"] = hearing.cpu[name], 0.0
            started_cpu, started = time.thread_time(), time.perf_counter()
            answers[name] = run[name](job).answer
            cpu, wall = time.thread_time() - started_cpu, time.perf_counter() - started
            llm_cpu = cpu - (hearing.cpu[name] - heard_before)
            measured = {"cpu_s": cpu, "llm_cpu_s": llm_cpu, "llm_forward_cpu_s": forward["cpu_s"],
                        "loop_cpu_s": llm_cpu - forward["cpu_s"], "wall_s": wall}
            for key, value in measured.items():
                samples_by_path[name][key].append(value)
        assert answers["off"] == answers["continuous"], answers  # the same greedy answer on both paths
    figures = {name: {f"{key[:-2]}_ms": 1000 * statistics.median(values) for key, values in by_key.items()}
               for name, by_key in samples_by_path.items()}
    ratios = {key: figures["continuous"][key] / figures["off"][key] for key in figures["off"]}
    print(f"\none request at a time, {pairs} pairs, medians in ms (cpu: thread CPU time):")
    print(f"  {'path':<22} {'cpu':>7} {'after hearing':>14} {'llm forward':>12} {'loop':>6} {'wall p50':>9}")
    for name, label in (("off", "batching off (generate)"), ("continuous", "continuous engine")):
        f = figures[name]
        print(f"  {label:<22} {f['cpu_ms']:>7.0f} {f['llm_cpu_ms']:>14.0f} {f['llm_forward_cpu_ms']:>12.0f} "
              f"{f['loop_cpu_ms']:>6.1f} {f['wall_ms']:>9.0f}")
    print(f"  continuous/off: cpu {ratios['cpu_ms']:.3f}, after hearing {ratios['llm_cpu_ms']:.3f}, "
          f"wall p50 {ratios['wall_ms']:.3f}", flush=True)
    return {**figures, "continuous_over_off": ratios, "pairs": pairs, "samples": samples_by_path}


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
