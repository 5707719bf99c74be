"""What `textpro recipe reproduce` computes besides training and `textpro eval`: the w/o-KD targets (the dataset's own
answers), the text side's answers shared between systems, efficiency (LLM input positions per second of audio,
latency per query) and the hours of audio each system trained on."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textpro.recipe.config import EfficiencySettings
    from textpro.recipe.reproduce import Reproduce


def dataset_answers(store, task: str | None = "semantic") -> list[dict]:
    """The w/o-KD targets: each question's gold answer from the manifest, in the teacher's format ("B. twelve"),
    in `textpro distill`'s JSONL schema, for the same records the teacher answered."""
    rows = []
    for entry in store.index:
        manifest = entry.get("manifest", {})
        if task is not None and manifest.get("task") != task:
            continue
        letter = str(manifest.get("reference", "")).strip()
        text = manifest.get("answer_text")
        response = f"{letter}. {text}" if text else letter
        rows.append({"id": entry["id"], "source": "dataset", "question": entry["text"], "response": response})
    return rows


def seed_text_responses(eval_root: Path, split: str, destination: Path) -> int:
    """Copy the text side's cached answers of earlier systems into a new eval directory (the harness re-asks
    nothing it finds there), so the text LLM answers each question once per run. Returns the rows copied."""
    cache = destination / "responses.jsonl"
    if cache.exists():
        return 0
    rows = []
    for path in sorted(eval_root.glob(f"*/{split}/responses.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line).get("side") == "text":
                    rows.append(line)
            except json.JSONDecodeError:
                continue
    if rows:
        destination.mkdir(parents=True, exist_ok=True)
        cache.write_text("\n".join(dict.fromkeys(rows)) + "\n", encoding="utf-8")
    return len(rows)


def efficiency_queries(bench: Path, split: str, count: int) -> list:
    from textpro.eval.bench import load_bench
    from textpro.eval.harness import limit_per_task
    from textpro.eval.responders import AudioQuery

    items = load_bench(bench, split)
    tasks = {item.task for item in items}
    items = limit_per_task(items, max(1, math.ceil(count / len(tasks))))[:count]
    return [AudioQuery(item.audio_path, item.instruction) for item in items]


def measure_efficiency(recipe: Reproduce, system: str, settings: EfficiencySettings) -> dict:
    """LLM input positions per second of audio (the speech part of the prompt) and mean seconds per query
    (audio in, answer out, one query at a time) of one system on `settings.queries` items."""
    from textpro.audio import SAMPLE_RATE, load_audio
    from textpro.eval.responders import SLMResponder

    queries = efficiency_queries(recipe.mini.data, settings.split, settings.queries)
    if not recipe.ablations[system].trained:  # the cascade
        from textpro.eval.responders import CascadeResponder, TextLLMResponder
        from textpro.whisperpro import Transcriber

        transcriber = Transcriber.from_pretrained(recipe.mini.whisperpro)
        text = TextLLMResponder.from_pretrained(recipe.mini.teacher, batch_size=1,
                                                max_new_tokens=settings.max_new_tokens)
        responder = CascadeResponder(lambda path: transcriber.transcribe(str(path), max_seconds=None).text, text)
        heard = [transcriber.transcribe(str(q.audio_path), max_seconds=None) for q in queries]
        positions = sum(len(text.tokenizer.encode(h.text, add_special_tokens=False)) for h in heard)
    else:
        responder = SLMResponder.from_pretrained(recipe.model_dir(system), batch_size=1,
                                                 max_new_tokens=settings.max_new_tokens)
        builder = responder.pipeline.slm.builder
        heard = responder.pipeline.listen([str(q.audio_path) for q in queries])
        positions = sum(builder.speech_positions(h) for h in heard)
    seconds = sum(len(load_audio(q.audio_path, max_seconds=None)) / SAMPLE_RATE for q in queries)
    responder.answer_audio(queries[:1])  # warm-up: first-call allocations are not per-query latency
    started = time.perf_counter()
    for query in queries:
        responder.answer_audio([query])
    latency = (time.perf_counter() - started) / len(queries)
    return {"positions_per_second": positions / seconds, "latency_seconds": latency, "queries": len(queries),
            "audio_seconds": round(seconds, 2)}


def training_hours(features: list[Path], distill: Path | None, use_paralinguistic: bool) -> float:
    """Hours of distinct audio in a system's training examples (either stage)."""
    from textpro.slm.featurize import FeatureStore
    from textpro.slm.tasks import ParalinguisticConfig, distillation_examples, paralinguistic_examples

    stores = [FeatureStore(f) for f in features]
    examples = distillation_examples(stores, distill) if distill and Path(distill).is_file() else []
    if use_paralinguistic:
        examples += paralinguistic_examples(stores, ParalinguisticConfig())
    used = {(e.store, e.index) for e in examples}
    return sum(float(stores[s].index[i]["duration"]) for s, i in used) / 3600
