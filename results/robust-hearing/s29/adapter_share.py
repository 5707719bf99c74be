"""Session 29: whose are the answers that part from the cascade on spoken multiple-choice questions, the adapter's or
the voice token's? On the 300-question dev_unseen (`s12/bigsem.sh`, flite voices), the share of questions on which the
SLM's answer is the very answer of its cascade (the text LLM on the same WhisperPro transcript), for the SLM as heard,
with the voice at its training mean, and the same two with the LoRA adapter switched off (the text LLM's own weights
reading the projected token). Greedy, as `textpro eval` (64 new tokens for the SLM, 48 for the text LLM).
  adapter_share.py MODEL_DIR [--limit N]   (bench runs/s12/bigsem, split dev_unseen)
"""
import argparse
import json
from pathlib import Path

from textpro.eval.responders import TextLLMResponder, cascade_prompt
from textpro.pipeline import TextPro

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--limit", type=int, default=None)
args = ap.parse_args()
bench = Path("runs/s12/bigsem")
rows = [r for r in map(json.loads, open(bench / "dev_unseen.jsonl")) if r["task"] == "semantic"][: args.limit]
pipe = TextPro.from_pretrained(args.model)
slm = pipe.slm
speech = pipe.listen([str(bench / r["audio"]) for r in rows])
neutral = [slm.neutral_speech(s) for s in speech]
teacher = TextLLMResponder.from_pretrained(Path(args.model) / "teacher", max_new_tokens=48)
cascade = [a.strip() for a in teacher.answer_text([cascade_prompt(s.text, None) for s in speech])]
print(f"{args.model}: {len(rows)} dev_unseen questions; the same answer as the cascade's")
for adapter in (True, False):
    for name, heard in (("as heard", speech), ("voice at its mean", neutral)):
        if adapter:
            answers = slm.generate([(s, None) for s in heard], max_new_tokens=64)
        else:
            with slm.llm.disable_adapter():
                answers = slm.generate([(s, None) for s in heard], max_new_tokens=64)
        same = sum(a.strip() == c for a, c in zip(answers, cascade, strict=True))
        print(f"  adapter {'on ' if adapter else 'off'}, {name:17s} {100 * same / len(rows):5.1f}%", flush=True)
