"""Distillation targets: the original text LLM (the teacher) answers each utterance's transcript, and its answer
becomes what TextPro-SLM learns to say from speech (docs/method.md: sequence-level KD, ASR text for both sides).

    textpro distill FEATURES --teacher smollm2-135m-instruct --out distill.jsonl [--source asr|ground_truth]

The teacher reads the transcript as the whole user message of its own chat template (no system prompt unless
given), exactly the text the student reads around its placeholders; greedy decoding, left-padded batches with a
KV cache. One JSON line per record: id, source, question (the text the teacher read), response, template_sha256
(`template_hash`: the chat template and system prompt that framed the question). Lines are appended and flushed
batch by batch; a rerun skips ids already in the file (resume) and refuses a file made under another template.

    textpro distill FEATURES --teacher DIR --teacher-endpoint http://host:8000 --out distill.jsonl

sends the same prompts, rendered here by `textpro.text_llm.render_chat` from DIR's tokenizer (only the tokenizer is
loaded), as raw text to any OpenAI-compatible server's /v1/completions (vLLM, llama.cpp server;
`slm.remote_teacher`), so a server's own default system prompt or template never changes the targets.

    textpro distill FEATURES --student DIR --task request --out on_policy.jsonl [--prompts written --seed N]

writes a TextPro-SLM's *own* greedy answers to the cached utterances (or to the written prompts, each read around
a seeded clip's prosody) instead, in the same line format with `answered_by` "student": stage 2's `on_policy`
rows, where the KL term alone teaches the student what the teacher would say next at every position of the
student's own answer (on-policy distillation).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from textpro.errors import ConfigError
from textpro.slm.featurize import FeatureStore
from textpro.text_llm import greedy_answers, render_chat

SOURCES = ("asr", "ground_truth")
PROMPT_SOURCE = "text"  # the source of a written prompt's answer: no audio, no transcript


def question_text(entry: dict, source: str) -> str:
    """What the teacher reads: the ASR transcript (or a written prompt), or the manifest's ground-truth text."""
    if source in ("asr", PROMPT_SOURCE):
        return entry["text"]
    text = entry.get("manifest", {}).get("text")
    if not isinstance(text, str):
        raise ConfigError(f"record {entry['id']!r} has no ground-truth 'text' in its manifest record")
    return text


def load_tokenizer(name_or_path):
    """The teacher's tokenizer (its chat template renders every prompt); a directory with tokenizer files is read as
    it is (a 7B teacher served elsewhere: no weights load here)."""
    from transformers import AutoTokenizer

    from textpro.hub import resolve_model

    given = Path(name_or_path).expanduser()
    path = given if (given / "tokenizer_config.json").is_file() else resolve_model(name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.chat_template is None:
        raise ConfigError(f"{name_or_path}: the teacher's tokenizer has no chat template (use an instruct model)")
    return tokenizer


def load_teacher(name_or_path, dtype: torch.dtype = torch.float32):
    from transformers import AutoModelForCausalLM

    from textpro.hub import resolve_model

    path = resolve_model(name_or_path)
    tokenizer = load_tokenizer(path)
    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype).eval(), tokenizer


def template_hash(tokenizer, system_prompt: str | None = None) -> str:
    """sha256 of what frames every question: the chat template and the system prompt."""
    framing = json.dumps({"chat_template": tokenizer.chat_template, "system_prompt": system_prompt}, sort_keys=True)
    return hashlib.sha256(framing.encode()).hexdigest()


def answered_ids(out: Path, template_sha256: str) -> set[str]:
    """Ids already answered in `out` (resume); ConfigError if they were answered under another template."""
    done = set()
    if out.is_file():
        with open(out, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                row = json.loads(line)
                if row.get("template_sha256", template_sha256) != template_sha256:
                    raise ConfigError(f"{out} holds answers made under another chat template or system prompt "
                                      f"({row['template_sha256'][:12]}, now {template_sha256[:12]}): choose "
                                      "another --out")
                done.add(row["id"])
    return done


def answer(llm, tokenizer, questions: list[str], max_new_tokens: int = 256,
           system_prompt: str | None = None) -> list[str]:
    """Greedy answers of a chat LLM to a batch of user messages (`textpro.text_llm`: left padding, KV cache)."""
    prompts = [render_chat(tokenizer, q, system_prompt) for q in questions]
    return greedy_answers(llm, tokenizer, prompts, max_new_tokens)


def distill(features: str | os.PathLike | None, teacher: str | os.PathLike, out: str | os.PathLike, *,
            source: str = "asr", task: str | None = None, batch_size: int = 8, max_new_tokens: int = 256,
            system_prompt: str | None = None, limit: int | None = None, progress: bool = True,
            llm=None, tokenizer=None, teacher_endpoint: str | None = None, endpoint_options: dict | None = None,
            prompts: list[str] | None = None) -> int:
    """Write the teacher's answers for the records of a feature cache to `out`; returns how many were written now.
    task: only records whose manifest `task` equals it (e.g. "semantic"); llm/tokenizer: a loaded teacher.
    prompts: written prompts instead of a feature cache (ids `prompt-00000`…, source "text"; `text_distill` in the
    stage-2 config reads them around other clips' prosody).
    teacher_endpoint: an OpenAI-compatible server's URL instead of a local model (`teacher` then only supplies the
    tokenizer whose chat template renders the prompts); endpoint_options: `remote_teacher.distill_remote` options
    (model, concurrency, retries, timeout, api_key)."""
    from tqdm.auto import tqdm

    if source not in SOURCES:
        raise ConfigError(f"--source must be one of {', '.join(SOURCES)}, got {source!r}")
    if prompts is not None:  # written prompts: the text is the question whatever the source
        source = PROMPT_SOURCE
        entries = [{"id": f"prompt-{i:05d}", "text": p} for i, p in enumerate(prompts)][:limit]
    else:
        store = FeatureStore(features)
        entries = [e for e in store.index if task is None or e.get("manifest", {}).get("task") == task][:limit]
    out = Path(out)
    if tokenizer is None and (llm is None or teacher_endpoint):
        tokenizer = load_tokenizer(teacher)
    framing = template_hash(tokenizer, system_prompt)
    done = answered_ids(out, framing)
    todo = [e for e in entries if e["id"] not in done]
    if not todo:
        return 0
    if teacher_endpoint:
        from textpro.slm.remote_teacher import distill_remote

        questions = [(e["id"], question_text(e, source)) for e in todo]
        return distill_remote(questions, tokenizer, teacher_endpoint, out, source=source, template_sha256=framing,
                              max_new_tokens=max_new_tokens, system_prompt=system_prompt, progress=progress,
                              total=len(entries), **(endpoint_options or {}))
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
                f.write(json.dumps({"id": e["id"], "source": source, "question": q, "response": r,
                                    "template_sha256": framing}, ensure_ascii=False) + "\n")
            f.flush()
            bar.update(len(batch))
    return len(todo)


def student_answers(features: str | os.PathLike, student: str | os.PathLike, out: str | os.PathLike, *,
                    task: str | None = None, batch_size: int = 8, max_new_tokens: int = 256,
                    limit: int | None = None, progress: bool = True, slm=None, prompts: list[str] | None = None,
                    seed: int = 0) -> int:
    """Write a TextPro-SLM's own greedy answers to the records of a feature cache (reading each clip as at
    inference: transcript and prosody) to `out`, in `distill`'s line format; returns how many were written now.
    prompts: written prompts instead, each read as the transcript of a clip drawn at random (seeded) from the cache,
    whose id the line keeps (`clip`) so that training reads the same prosody. `student`: a TextPro-SLM directory
    (slm: a loaded TextProSLM instead). Resumable as `distill`."""
    import numpy as np
    from tqdm.auto import tqdm

    store = FeatureStore(features)
    if prompts is not None:
        draws = np.random.default_rng([seed, 4]).integers(len(store), size=len(prompts))
        items = [(f"prompt-{n:05d}", int(clip), text)
                 for n, (clip, text) in enumerate(zip(draws, prompts, strict=True))]
    else:
        items = [(e["id"], i, None) for i, e in enumerate(store.index)
                 if task is None or e.get("manifest", {}).get("task") == task]
    items = items[:limit]
    if slm is None:
        from textpro.slm.model import TextProSLM

        slm = TextProSLM.from_pretrained(student).eval()
    out = Path(out)
    framing = template_hash(slm.tokenizer, slm.config.system_prompt)
    done = answered_ids(out, framing)
    todo = [item for item in items if item[0] not in done]
    if not todo:
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a", encoding="utf-8") as f, tqdm(total=len(items), initial=len(items) - len(todo),
                                                      desc="student answers", unit="utt",
                                                      disable=not progress) as bar, torch.no_grad():
        for first in range(0, len(todo), batch_size):
            batch = todo[first:first + batch_size]
            # a written prompt is read as the clip's transcript, with the clip's prosody (as `written_examples`)
            records = [store[i] if text is None else {**store[i], "text": text, "token_ids": []}
                       for _, i, text in batch]
            responses = slm.generate(records, max_new_tokens=max_new_tokens)
            for (item_id, i, text), record, response in zip(batch, records, responses, strict=True):
                line = {"id": item_id, "source": "asr" if text is None else PROMPT_SOURCE,
                        **({} if text is None else {"clip": store.index[i]["id"]}), "question": record["text"],
                        "response": response, "answered_by": "student", "template_sha256": framing}
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
            f.flush()
            bar.update(len(batch))
    return len(todo)
