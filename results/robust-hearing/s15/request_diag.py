"""Session 15: where do the SLM's open answers leave its text LLM's? For the spoken requests of one split, ROUGE-L
against the text LLM's greedy answer to the *original* text, of: the SLM as heard; with the prosody at the training
mean (neutral); the same two with the LoRA adapter switched off (the text LLM's own weights reading the placeholder);
and the cascade (the text LLM on WhisperPro's transcript). 48 new tokens, as `textpro eval`.
  request_diag.py MODEL_DIR BENCH SPLIT [--limit N] [--jsonl OUT]
"""
import argparse
import json
import statistics
from contextlib import nullcontext
from pathlib import Path

import torch

from textpro.eval.diagnostics import rouge_l
from textpro.eval.responders import TextLLMResponder
from textpro.pipeline import TextPro

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("bench")
ap.add_argument("split")
ap.add_argument("--limit", type=int, default=None)
ap.add_argument("--jsonl", default=None)
ap.add_argument("--train-distill", default=None, help="instead of the split: train requests of this distill.jsonl "
                "with features from --features (the fit, not the transfer)")
ap.add_argument("--after", action="store_true", help="(probe) global placeholder after the transcript, not before")
args = ap.parse_args()
if args.after:  # a what-if on the builder, no training: the transcript's positions as the text LLM computes them
    from textpro.slm import inputs
    _speech = inputs.InputBuilder.speech
    def _after(self, speech):
        ids, rows = _speech(self, speech)
        return ids[1:] + ids[:1], rows
    inputs.InputBuilder.speech = _after
torch.manual_seed(0)
rows = [json.loads(line) for line in open(Path(args.bench) / f"{args.split}.jsonl")]
rows = [r for r in rows if r["task"] == "request"][: args.limit]
pipe = TextPro.from_pretrained(args.model)
teacher = TextLLMResponder.from_pretrained(Path(args.model) / "teacher", max_new_tokens=48)
slm = pipe.slm
speech = pipe.listen([str(Path(args.bench) / r["audio"]) for r in rows])
neutral = [slm.neutral_speech(s) for s in speech]
reference = teacher.answer_text([r["text"] for r in rows])
out = {"cascade": teacher.answer_text([s.text for s in speech])}
for adapter in (True, False):
    ctx = nullcontext() if adapter else slm.llm.disable_adapter()
    with ctx:
        tag = "" if adapter else "-noadapter"
        out["heard" + tag] = slm.generate([(s, None) for s in speech], max_new_tokens=48)
        out["neutral" + tag] = slm.generate([(s, None) for s in neutral], max_new_tokens=48)
print(f"{args.model} {args.split} n={len(rows)}")
print("  answers               ROUGE-L vs the text LLM on the text / on the same transcript (cascade)  length ratio")
for name, answers in out.items():
    scores = [rouge_l(a, r) for a, r in zip(answers, reference, strict=True)]
    same = [rouge_l(a, c) for a, c in zip(answers, out["cascade"], strict=True)]
    ratio = [len(a.split()) / max(1, len(r.split())) for a, r in zip(answers, reference, strict=True)]
    print(f"  {name:20s} {statistics.mean(scores):.3f} / {statistics.mean(same):.3f}  {statistics.mean(ratio):.2f}")
if args.jsonl:
    with open(args.jsonl, "w") as f:
        for i, r in enumerate(rows):
            f.write(json.dumps({"id": r["id"], "text": r["text"], "transcript": speech[i].text,
                                "reference": reference[i], **{k: v[i] for k, v in out.items()}}) + "\n")
