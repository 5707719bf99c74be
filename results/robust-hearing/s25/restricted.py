"""Session 25: what if the stage-2 LoRA update acted only at the prosody placeholder's rows? Then the transcript,
the instruction and the answer run through the text LLM's own weights and meet the voice only by attending to the
placeholder's adapted keys and values (deep prompt conditioning, as in prefix/P-tuning v2), so the content answers
could drift from the text LLM's only through that attention. A what-if, no training: runs a script with every
TextPro-SLM it loads restricted that way (a forward hook on each lora_B multiplies the update by the placeholder mask
of the prompt; generated tokens, which are never placeholders, get no update).
With PLACEHOLDER_AT=end in the environment the (global) placeholder also moves from before the transcript to the
end of the prompt (after the assistant turn's opening): before the transcript its adapted rows cannot see the
question (causal attention), so they cannot tell a gender question from a spoken request; at the end they read the
whole turn, and the answer's first token is predicted from them. PLACEHOLDER_AT=user: at the end of the user's
turn (after the instruction, before the end-of-turn): it still reads the whole question, and the answer's first token
is predicted by the text LLM's own weights.
  restricted.py SCRIPT ARGS...   e.g. restricted.py benchmarks/hearing_check.py MODEL FEATURES --threads 2
"""
import os
import runpy
import sys

import torch

from textpro.slm.inputs import InputBuilder, Prompt
from textpro.slm.model import TextProSLM

_embed, _load = TextProSLM.embed, TextProSLM._load.__func__


def embed(self, input_ids, prosody_vectors=None, prosody_mask=None):
    self._adapter_rows = input_ids == self.placeholder_id  # (B, L): the prompt's placeholder rows
    return _embed(self, input_ids, prosody_vectors, prosody_mask)


def restrict(model):
    def hook(module, args, out):  # out (B, T, d_out): the LoRA update of T positions
        rows = getattr(model, "_adapter_rows", None)
        if rows is None or tuple(out.shape[:2]) != tuple(rows.shape):  # a decoding step: one generated token
            return out * 0
        return out * rows.unsqueeze(-1).to(out.dtype)

    n = 0
    for name, module in model.llm.named_modules():
        if name.endswith("lora_B.default"):
            module.register_forward_hook(hook)
            n += 1
    print(f"[restricted] LoRA update only at placeholder rows: {n} lora_B modules hooked", file=sys.stderr)
    return model


def _load_restricted(cls, *args, **kwargs):
    return restrict(_load(cls, *args, **kwargs))


def prompt_placeholder_moved(self, speech, instruction=None):
    """The prompt with the global placeholder moved from before the transcript to PLACEHOLDER_AT: "end" (after the
    assistant turn's opening) or "user" (before the user turn's end-of-turn ids, the template's tail)."""
    before, after, _, tail = self.template(instruction)
    speech_ids, prosody = self.speech(speech)
    assert self.config.injection == "global" and speech_ids[0] == self.placeholder_id
    at = len(after) if PLACEHOLDER_AT == "end" else next(i for i in range(len(after)) if after[i:i + len(tail)] == tail)
    return Prompt(before + speech_ids[1:] + after[:at] + speech_ids[:1] + after[at:], None, prosody)


PLACEHOLDER_AT = os.environ.get("PLACEHOLDER_AT")
if PLACEHOLDER_AT in ("end", "user"):
    InputBuilder.prompt = prompt_placeholder_moved
    print(f"[restricted] the placeholder goes at {PLACEHOLDER_AT}", file=sys.stderr)
TextProSLM.embed = embed
TextProSLM._load = classmethod(_load_restricted)
torch.manual_seed(0)
script, sys.argv = sys.argv[1], sys.argv[1:]
runpy.run_path(script, run_name="__main__")
