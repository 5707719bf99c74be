"""Session 15: how precisely does the SLM follow its text LLM on open requests? For each dev_unseen request, the text
LLM's greedy answer to the SLM's own transcript (the cascade's answer, from request_diag.py's --jsonl) is forced
through the SLM as heard; per answer token: does the SLM's argmax equal the text LLM's token (its greedy choice)?
One flip sends greedy decoding elsewhere, so the share of answers with no flip in their first K tokens says how far
ROUGE-L can rise.
  flip_rate.py MODEL_DIR BENCH SPLIT REQUESTS_JSONL
"""
import json
import statistics
import sys
from pathlib import Path

import torch

from textpro.pipeline import TextPro
from textpro.train.kind import IGNORE_INDEX

model, bench, split, answers = sys.argv[1:5]
rows = {r["id"]: r for r in map(json.loads, open(Path(bench) / f"{split}.jsonl")) if r["task"] == "request"}
done = [json.loads(line) for line in open(answers)]
pipe = TextPro.from_pretrained(model)
slm = pipe.slm
speech = pipe.listen([str(Path(bench) / rows[d["id"]]["audio"]) for d in done])
flips, first_flip, logprob = [], [], []
with torch.inference_mode():
    for s, d in zip(speech, done, strict=True):
        example = slm.builder.example(s, None, d["cascade"])
        batch = {k: v.to(slm.device) for k, v in slm.builder.collate([example], "right").items()}
        logits = slm.forward(**{k: v for k, v in batch.items() if k != "labels"}).logits[0]  # (L, V)
        labels = batch["labels"][0]
        at = (labels[1:] != IGNORE_INDEX).nonzero().squeeze(-1)  # positions whose next token is an answer token
        at = at[:-1]  # not the end of turn: the cascade's answer was cut at 48 tokens, not ended
        target = labels[1:][at]
        predicted = logits[:-1][at].argmax(-1)
        wrong = (predicted != target).float()
        flips.append(float(wrong.mean()))
        first_flip.append(int(wrong.nonzero()[0]) if wrong.any() else len(wrong))
        logprob.append(float(torch.log_softmax(logits[:-1][at].float(), -1).gather(1, target[:, None]).mean()))
print(f"{model} {split} n={len(done)}: argmax = the text LLM's token on {100 * (1 - statistics.mean(flips)):.1f}% "
      f"of answer tokens; first flip at token {statistics.median(first_flip)} (median); "
      f"no flip in the first 10 / 20 tokens: {100 * statistics.mean(f >= 10 for f in first_flip):.0f}% / "
      f"{100 * statistics.mean(f >= 20 for f in first_flip):.0f}%; mean log-prob {statistics.mean(logprob):.3f}")
