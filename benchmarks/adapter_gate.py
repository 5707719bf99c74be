"""What the adapter gate costs at inference: its router reads each prompt with one more pass of the text LLM.

    .venv/bin/python benchmarks/adapter_gate.py GATED_MODEL FEATURES [--turns 32] [--batch 8] [--new-tokens 48] \
        [--threads 2] [--out benchmarks/results/adapter_gate.json]

GATED_MODEL: a TextPro-SLM directory with an adapter gate (`textpro.slm.gate`); FEATURES: a feature cache whose
records are asked, half with "Is the speaker male or female?", half as spoken content turns (their transcript alone).
Each batch is generated twice, exactly --new-tokens tokens per row, greedy, in alternating order so that machine-load
drift hits both alike:
  gated    `generate_ids` as served: the router's pass over the prompts, then prefill and decoding
  no pass  the same model and hooks with the gate's values already set (the router's pass skipped)
Reported: seconds per batch of each (median, total), their ratio, and the router pass's own seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("features")
    parser.add_argument("--turns", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/adapter_gate.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from textpro.slm import TextProSLM
    from textpro.slm.featurize import FeatureStore

    slm = TextProSLM.from_pretrained(args.model)
    if slm.gate is None:
        raise SystemExit(f"{args.model}: no adapter gate")
    store = FeatureStore(args.features)
    turns = [(store[i], "Is the speaker male or female?" if i % 2 else None) for i in range(args.turns)]
    batches = [turns[i:i + args.batch] for i in range(0, len(turns), args.batch)]
    route = slm.route
    seconds = {"gated": [], "no pass": [], "router pass": []}
    opened = []
    for i, batch in enumerate(batches):
        prompts = slm.builder.build_generation_batch(batch)
        started = time.perf_counter()
        route(prompts["input_ids"], prompts["attention_mask"].bool())
        seconds["router pass"].append(time.perf_counter() - started)
        values = slm.gate.values.clone()
        opened += values.tolist()
        for name in (("gated", "no pass") if i % 2 == 0 else ("no pass", "gated")):
            slm.route = route if name == "gated" else (lambda *_, v=values: setattr(slm.gate, "values", v))
            started = time.perf_counter()
            slm.generate_ids(batch, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens)
            seconds[name].append(time.perf_counter() - started)
        slm.route = route
        print(f"batch {i}: gated {seconds['gated'][-1]:.2f} s, no pass {seconds['no pass'][-1]:.2f} s, router pass "
              f"{seconds['router pass'][-1]:.2f} s", flush=True)
    result = {
        "model": args.model, "features": args.features, "threads": args.threads, "turns": len(turns),
        "batch": args.batch, "new_tokens": args.new_tokens,
        "median_seconds": {k: round(statistics.median(v), 3) for k, v in seconds.items()},
        "total_seconds": {k: round(sum(v), 2) for k, v in seconds.items()},
        "gated_over_no_pass": round(sum(seconds["gated"]) / sum(seconds["no pass"]), 3),
        "gate_values (voice turns / content turns)": [
            round(statistics.mean(opened[1::2]), 3), round(statistics.mean(opened[0::2]), 3)],
    }
    print(json.dumps(result, indent=1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
