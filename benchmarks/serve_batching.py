"""`textpro serve` throughput and latency with micro-batching on and off, at concurrency 1, 4 and 16.

    .venv/bin/python benchmarks/serve_batching.py [--requests 8,16,32] [--max-tokens 24] [--batch-size 8] [--threads 1]
    .venv/bin/python benchmarks/serve_batching.py --continuous --threads 1   # continuous batching against off

Both servers run in this process under real uvicorn on free ports and share one model (the untrained TextPro:
real Whisper tiny.en + SmolLM2-135M, which is what the untrained default serves); the only difference between
them is `max_batch_size` (B, default 8, with a 50 ms wait for company when idle) against 1 (batching off). Clients
are httpx.AsyncClient coroutines sending non-streamed /v1/chat/completions requests with a short piper question as
input_audio, greedy, `max_tokens` fixed. At each concurrency c, c clients send R requests in all, back to back;
throughput = R / wall time, latency per request from send to full answer. The two servers take turns at each level
so that drifting machine load hits both alike. Output: a Markdown table (on/off ratios) and a JSON file.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import socket
import statistics
import threading
import time
from pathlib import Path

import numpy as np

# Questions tiny.en transcribes cleanly (noise-free piper renderings of some sentences make it repeat them until
# its token limit, which would measure that bug rather than the server).
QUESTIONS = ["What is the capital of France?", "How many legs does a spider have?", "What is the largest planet?",
             "What is the boiling point of water?", "Name a fruit that is yellow."]


def spoken_wav(text: str) -> bytes:
    import soundfile as sf
    from piper import SynthesisConfig

    from textpro.data.synth import _piper_voice

    voice = _piper_voice()
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)  # the same clip every run
    samples = np.concatenate([c.audio_float_array for c in voice.synthesize(text, config)])
    buffer = io.BytesIO()
    sf.write(buffer, samples, voice.config.sample_rate, format="WAV")
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app):
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{server.config.port}"


async def load(url: str, bodies: list[dict], concurrency: int, total: int) -> dict:
    import httpx

    latencies: list[float] = []
    next_index = 0

    async def client(http):
        nonlocal next_index
        while next_index < total:
            body = bodies[next_index % len(bodies)]
            next_index += 1
            sent = time.perf_counter()
            response = await http.post(f"{url}/v1/chat/completions", json=body)
            response.raise_for_status()
            latencies.append(time.perf_counter() - sent)

    async with httpx.AsyncClient(timeout=600) as http:
        health = (await http.get(f"{url}/health")).json()["batching"]
        load_average = os.getloadavg()[0]
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        wall = time.perf_counter() - start
        after = (await http.get(f"{url}/health")).json()["batching"]
    return {"requests": total, "wall_s": wall, "latencies": latencies,
            "batches": max(1, after["batches_run"] - health["batches_run"]),
            "load_average": (load_average + os.getloadavg()[0]) / 2}


def merged(rounds: list[dict]) -> dict:
    """One mode's rounds at one concurrency as one figure: throughput over their summed wall time, latency
    percentiles over all their requests, the load average at their starts and ends (mean)."""
    latencies = sorted(t for r in rounds for t in r["latencies"])
    total, wall = sum(r["requests"] for r in rounds), sum(r["wall_s"] for r in rounds)
    return {"requests": total, "wall_s": wall, "throughput_rps": total / wall,
            "p50_s": statistics.median(latencies),
            "p95_s": latencies[min(len(latencies) - 1, int(np.ceil(0.95 * len(latencies))) - 1)],
            "mean_batch": total / sum(r["batches"] for r in rounds),
            "load_average": statistics.mean(r["load_average"] for r in rounds), "rounds": len(rounds)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="1,4,16", help="client counts (default 1,4,16)")
    parser.add_argument("--requests", default="8,16,32", help="requests per level, one per concurrency")
    parser.add_argument("--max-tokens", type=int, default=24, help="answer length cap per request (default 24)")
    parser.add_argument("--batch-size", type=int, default=8, help="max_batch_size with batching on (default 8)")
    parser.add_argument("--wait-ms", type=float, default=50.0, help="batch_wait_ms with batching on (default 50)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for the model (default: torch's; 1 is faster on a loaded shared CPU)")
    parser.add_argument("--continuous", action="store_true",
                        help="batching on = continuous batching (rows join and leave at each step) instead of "
                             "micro-batches")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="the servers' per-request timeout in seconds (default 600: on a loaded machine the "
                             "serve default of 120 s turned queued requests of batching off into 504s)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="at each level, split the requests into this many rounds per server, the servers "
                             "taking turns (on off off on ...): machine-load drift then hits both alike (default 1)")
    parser.add_argument("--out", default="benchmarks/results/serve_batching.json", help="JSON results file")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    totals = [int(r) for r in args.requests.split(",")]
    if len(totals) != len(levels):
        parser.error("--requests needs one number per --concurrency level")

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from textpro.console import quiet_libraries
    from textpro.pipeline import TextPro
    from textpro.serve import ServeSettings, create_app
    from textpro.serve.engine import untrained_model

    quiet_libraries()
    if args.threads:
        torch.set_num_threads(args.threads)
    served = untrained_model(TextPro.untrained())
    bodies = [{"model": served.model_id, "max_tokens": args.max_tokens, "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": base64.b64encode(spoken_wav(q)).decode(), "format": "wav"}}
    ]}]} for q in QUESTIONS]
    modes = {
        "on": ServeSettings(max_batch_size=args.batch_size, batch_wait_ms=args.wait_ms, max_queue=256,
                            continuous_batching=args.continuous, timeout_seconds=args.timeout),
        "off": ServeSettings(max_batch_size=1, batch_wait_ms=0, max_queue=256, timeout_seconds=args.timeout),
    }
    servers = {mode: start_server(create_app(served, settings)) for mode, settings in modes.items()}
    print(f"model {served.model_id}; torch threads {torch.get_num_threads()}; {len(QUESTIONS)} clips; "
          f"max_tokens {args.max_tokens}; batching on = {'continuous, ' if args.continuous else ''}"
          f"B {args.batch_size}, wait {args.wait_ms:g} ms; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    for _, _, url in servers.values():  # warm-up: first calls allocate and fill caches
        asyncio.run(load(url, bodies, 2, 4))

    results: dict[str, dict[int, dict]] = {"on": {}, "off": {}}
    for concurrency, total in zip(levels, totals, strict=True):
        rounds: dict[str, list[dict]] = {"on": [], "off": []}
        for n in range(args.rounds):
            order = ["on", "off"] if (concurrency + n) % 2 else ["off", "on"]
            for mode in order:
                rounds[mode].append(asyncio.run(load(servers[mode][2], bodies, concurrency, total // args.rounds)))
        for mode in ("on", "off"):
            results[mode][concurrency] = r = merged(rounds[mode])
            print(f"  c={concurrency:<3} batching {mode:<3} {r['throughput_rps']:.2f} req/s  p50 {r['p50_s']:.2f} s  "
                  f"p95 {r['p95_s']:.2f} s  mean batch {r['mean_batch']:.1f}  load average "
                  f"{r['load_average']:.1f}", flush=True)
    for server, thread, _ in servers.values():
        server.should_exit = True
        thread.join(timeout=10)

    print("\n| concurrency | requests | batching on: req/s · p50 · p95 (mean batch) | batching off: req/s · p50 · p95 "
          "| throughput on/off | p50 on/off | p95 on/off |")
    print("|---:|---:|---|---|---:|---:|---:|")
    for concurrency, total in zip(levels, totals, strict=True):
        on, off = results["on"][concurrency], results["off"][concurrency]
        print(f"| {concurrency} | {total} | {on['throughput_rps']:.2f} · {on['p50_s']:.2f} s · {on['p95_s']:.2f} s "
              f"({on['mean_batch']:.1f}) | {off['throughput_rps']:.2f} · {off['p50_s']:.2f} s · "
              f"{off['p95_s']:.2f} s | {on['throughput_rps'] / off['throughput_rps']:.2f}× | "
              f"{on['p50_s'] / off['p50_s']:.2f} | {on['p95_s'] / off['p95_s']:.2f} |")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "model": served.model_id, "results": results}, indent=2) + "\n")
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
