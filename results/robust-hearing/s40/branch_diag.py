"""Session 40: which branch of the prosody input moves the content answers? For the dev_unseen spoken requests, ROUGE-L
of the SLM's answer against the text LLM's answer to the same transcript (the cascade), with the whole prosody input as
heard, at the training mean, and with only the learned WhisperPro vector / only the measured acoustics at their mean.
  branch_diag.py MODEL_DIR BENCH SPLIT
"""
import json
import statistics
import sys
from pathlib import Path

import torch

from textpro.eval.diagnostics import rouge_l
from textpro.eval.responders import TextLLMResponder
from textpro.pipeline import TextPro

model, bench, split = sys.argv[1:4]
torch.manual_seed(0)
rows = [json.loads(line) for line in open(Path(bench) / f"{split}.jsonl")]
rows = [r for r in rows if r["task"] == "request"]
pipe = TextPro.from_pretrained(model)
slm = pipe.slm
speech = pipe.listen([str(Path(bench) / r["audio"]) for r in rows])
teacher = TextLLMResponder.from_pretrained(Path(model) / "teacher", max_new_tokens=48)
cascade = teacher.answer_text([s.text for s in speech])
inputs = {"heard": speech, "neutral": [slm.neutral_speech(s) for s in speech],
          "learned-at-mean": [slm.neutral_speech(s, "learned") for s in speech],
          "acoustics-at-mean": [slm.neutral_speech(s, "acoustic") for s in speech]}
print(f"{model} {split} n={len(rows)}: ROUGE-L vs the cascade's answer, identical answers")
for name, batch in inputs.items():
    answers = slm.generate([(s, None) for s in batch], max_new_tokens=48)
    scores = [rouge_l(a, c) for a, c in zip(answers, cascade, strict=True)]
    same = sum(a.strip() == c.strip() for a, c in zip(answers, cascade, strict=True))
    print(f"  {name:18s} {statistics.mean(scores):.3f}  {same}/{len(rows)}", flush=True)
