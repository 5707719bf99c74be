"""Distillation targets: the original text LLM (the teacher) answers each utterance's transcript, and its answer
becomes what TextPro-SLM learns to say from speech (docs/method.md: sequence-level KD, ASR text for both sides).

    textpro distill FEATURES --teacher smollm2-135m-instruct --out distill.jsonl [--source asr|ground_truth]

The teacher reads the transcript as the whole user message of its own chat template (no system prompt unless
given), exactly the text the student reads around its placeholders; greedy decoding, left-padded batches with a
KV cache. One JSON line per record: id, source, question (the text the teacher read), response. Lines are appended
and flushed batch by batch; a rerun skips ids already in the file (resume).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from textpro.errors import ConfigError
from textpro.slm.featurize import FeatureStore
from textpro.text_llm import greedy_answers, render_chat

SOURCES = ("asr", "ground_truth")


def question_text(entry: dict, source: str) -> str:
    """What the teacher reads: the ASR transcript, or the manifest's ground-truth text."""
    if source == "asr":
        return entry["text"]
    text = entry.get("manifest", {}).get("text")
    if not isinstance(text, str):
        raise ConfigError(f"record {entry['id']!r} has no ground-truth 'text' in its manifest record")
    return text


def load_teacher(name_or_path, dtype: torch.dtype = torch.float32):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from textpro.hub import resolve_model

    path = resolve_model(name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.chat_template is None:
        raise ConfigError(f"{name_or_path}: the teacher's tokenizer has no chat template (use an instruct model)")
    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype).eval(), tokenizer


def answer(llm, tokenizer, questions: list[str], max_new_tokens: int = 256,
           system_prompt: str | None = None) -> list[str]:
    """Greedy answers of a chat LLM to a batch of user messages (`textpro.text_llm`: left padding, KV cache)."""
    prompts = [render_chat(tokenizer, q, system_prompt) for q in questions]
    return greedy_answers(llm, tokenizer, prompts, max_new_tokens)


def distill(features: str | os.PathLike, teacher: str | os.PathLike, out: str | os.PathLike, *,
            source: str = "asr", task: str | None = None, batch_size: int = 8, max_new_tokens: int = 256,
            system_prompt: str | None = None, limit: int | None = None, progress: bool = True,
            llm=None, tokenizer=None) -> int:
    """Write the teacher's answers for the records of a feature cache to `out`; returns how many were written now.
    task: only records whose manifest `task` equals it (e.g. "semantic"); llm/tokenizer: a loaded teacher."""
    from tqdm.auto import tqdm

    if source not in SOURCES:
        raise ConfigError(f"--source must be one of {', '.join(SOURCES)}, got {source!r}")
    store = FeatureStore(features)
    entries = [e for e in store.index if task is None or e.get("manifest", {}).get("task") == task][:limit]
    out = Path(out)
    done = set()
    if out.is_file():
        with open(out, encoding="utf-8") as f:
            done = {json.loads(line)["id"] for line in f if line.strip()}
    todo = [e for e in entries if e["id"] not in done]
    if not todo:
        return 0
    if llm is None:
        llm, tokenizer = load_teacher(teacher)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a", encoding="utf-8") as f, tqdm(total=len(entries), initial=len(entries) - len(todo),
                                                      desc="distill", unit="utt", disable=not progress) as bar:
        for first in range(0, len(todo), batch_size):
            batch = todo[first:first + batch_size]
            questions = [question_text(e, source) for e in batch]
            responses = answer(llm, tokenizer, questions, max_new_tokens, system_prompt)
            for e, q, r in zip(batch, questions, responses, strict=True):
                f.write(json.dumps({"id": e["id"], "source": source, "question": q, "response": r},
                                   ensure_ascii=False) + "\n")
            f.flush()
            bar.update(len(batch))
    return len(todo)
