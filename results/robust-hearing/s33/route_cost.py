"""Session 33: where the gated default's extra time per answer goes (session 32 measured 1.007 s median per answer
against soup65x4's 0.821, fp32). Times `slm.generate` per spoken question on dev_unseen clips (transcribed once,
outside the timing) and, inside it, the adapter gate's routing pass (`slm.route`: the text LLM's first 15 layers over
the prompt, adapter off), one thread.
  python route_cost.py BENCH [--limit N]   (BENCH: a make-mini benchmark with a dev_unseen split, e.g. runs/s12/bigsem)
"""
import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from textpro.pipeline import TextPro

parser = argparse.ArgumentParser()
parser.add_argument("bench", type=Path)
parser.add_argument("--limit", type=int, default=40)
args = parser.parse_args()
torch.set_num_threads(1)
rows = [json.loads(line) for line in open(args.bench / "dev_unseen.jsonl")]
rows = [r for r in rows if r["task"] == "semantic"][: args.limit]
model = TextPro.from_pretrained()
slm = model.slm
transcripts = [model.listen(str(args.bench / r["audio"])) for r in rows]
route_seconds = []
original = slm.route


def timed_route(*a, **k):
    start = time.perf_counter()
    original(*a, **k)
    route_seconds.append(time.perf_counter() - start)


slm.route = timed_route
totals, lengths = [], []
with torch.inference_mode():
    slm.generate([(transcripts[0], None)], max_new_tokens=32)  # warm-up
    route_seconds.clear()
    for t in transcripts:
        start = time.perf_counter()
        answer = slm.generate([(t, None)], max_new_tokens=32)[0]
        totals.append(time.perf_counter() - start)
        lengths.append(len(slm.tokenizer(answer)["input_ids"]))
share = sum(route_seconds) / sum(totals)
print(f"{len(rows)} dev_unseen questions, one thread: generate median {statistics.median(totals):.3f} s, "
      f"routing pass median {statistics.median(route_seconds):.3f} s ({100 * share:.1f}% of the time), "
      f"answers median {statistics.median(lengths)} tokens")
