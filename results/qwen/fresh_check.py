# Load a fetched Qwen2.5-Coder and answer one question greedily (session 8, BENCHMARKS.md "Qwen2.5-Coder backbones").
# HF_HUB_OFFLINE=1 .venv/bin/python results/qwen/fresh_check.py
import resource
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from textpro.hub import resolve_model

t = time.perf_counter()
path = resolve_model("qwen2.5-coder-1.5b-instruct")
tok = AutoTokenizer.from_pretrained(path)
llm = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
load = time.perf_counter() - t
print(type(llm).__name__, sum(p.numel() for p in llm.parameters()), "params; load", round(load, 1), "s;",
      "<|repo_name|> =", tok.convert_tokens_to_ids("<|repo_name|>"))
ids = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France? Answer in one word."}],
                              add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
t = time.perf_counter()
with torch.inference_mode():
    out = llm.generate(ids, max_new_tokens=8, do_sample=False)
print(repr(tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)), round(time.perf_counter() - t, 1), "s;",
      "peak RSS", round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2), "GB")
