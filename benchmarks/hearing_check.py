"""Fast hearing check on cached features: does a TextPro-SLM (or a training checkpoint) name the gender, pitch and
rate (or, with --tasks, the accent and style) of the clips in a feature cache, asked with each record's own phrasing?

`textpro eval` answers every item three times from audio (as heard, prosody-neutral, cascade) and runs WhisperPro
on every clip: ~15 minutes for a 180-clip dev split on 2 cores. This reads a `textpro featurize` cache instead and
asks only the paralinguistic questions, once: about a minute, so a variant can be checked at every saved training
checkpoint, and on the *training* cache too (can the model even fit what it was taught?). Labels are matched with
the evaluation's own matcher and diagnostics (`predict_labels`, `balanced_accuracy`, `answer_histogram`).

    python benchmarks/hearing_check.py MODEL_OR_CHECKPOINT FEATURES [--limit N] [--threads T] [--branch B]
                                       [--phrasings FILE --phrasings-split SPLIT] [--tasks T ...]

`--phrasings`: ask every clip a phrasing drawn (seeded per clip) from SPLIT of a file laid out as
`textpro/data/phrasings.yaml`, instead of its own: how well the hearing carries over to questions worded in ways
neither training nor the dev split used.

MODEL_OR_CHECKPOINT: a TextPro-SLM directory, or `<output_dir>/checkpoints/step-N` of `textpro train slm` (rebuilt
from the run's config.yaml, then loaded). FEATURES: a feature cache whose manifest records carry `task`,
`reference`, `labels` and the question in `prompt` (the mini world's splits do).
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import numpy as np
import torch

TASKS = ("gender", "pitch", "rate")


def load_model(path: Path):
    from textpro.slm import TextProSLM

    if not (path / "model.safetensors").exists():
        return TextProSLM.from_pretrained(path).eval()
    from safetensors.torch import load_file

    from textpro.slm.training import SLMTrainingConfig, build

    config = SLMTrainingConfig.from_yaml(path.parent.parent / "config.yaml")  # <output_dir>/checkpoints/step-N
    objective, _, _ = build(config)
    _, unexpected = objective.load_state_dict(load_file(path / "model.safetensors"), strict=False)
    if unexpected:
        raise SystemExit(f"{path}: the checkpoint holds weights the run's config does not build: {unexpected[:3]}")
    return objective.slm.eval()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="TextPro-SLM directory or a training checkpoint step-N directory")
    parser.add_argument("features", type=Path, help="feature cache directory (textpro featurize)")
    parser.add_argument("--limit", type=int, default=0, help="at most N clips per task, evenly spaced (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--branch", choices=("learned", "acoustic"),
                        help="replace this branch of every clip's prosody by its training mean")
    parser.add_argument("--phrasings", type=Path, help="phrasings file (phrasings.yaml's layout) to ask from")
    parser.add_argument("--phrasings-split", default="probe", help="which split of --phrasings (default probe)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --phrasings draw")
    parser.add_argument("--dump", type=Path, help="write every item's question, reference and answer here (JSONL)")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS),
                        help=f"tasks to ask (default {' '.join(TASKS)}; accent and style need espeak clips)")
    args = parser.parse_args(argv)
    if args.dump:
        args.dump.unlink(missing_ok=True)

    from textpro.data.paralinguistic import read_phrasings
    from textpro.eval.bench import items_from_records
    from textpro.eval.diagnostics import answer_histogram, balanced_accuracy, by_phrasing, per_speaker
    from textpro.eval.harness import predict_labels
    from textpro.slm.featurize import FeatureStore

    torch.set_num_threads(args.threads)
    pool = read_phrasings(args.phrasings) if args.phrasings else None  # task -> split -> phrasings
    slm = load_model(args.model)
    store = FeatureStore(args.features)
    per_task = collections.defaultdict(list)
    for i, entry in enumerate(store.index):
        if entry["manifest"].get("task") in args.tasks:
            per_task[entry["manifest"]["task"]].append(i)
    # a clip's place among its task's clips seeds its --phrasings draw, so --limit asks it the same question
    place = {i: n for rows in per_task.values() for n, i in enumerate(rows)}
    if args.limit:
        per_task = {t: rows[::max(1, len(rows) // args.limit)][:args.limit] for t, rows in per_task.items()}
    for task, rows in per_task.items():
        records = [store.index[i]["manifest"] for i in rows]
        if pool:
            records = rephrased(records, [place[i] for i in rows], pool[task][args.phrasings_split], args.seed)
        items = items_from_records(records)
        speech = [store[i] if args.branch is None else slm.neutral_speech(store[i], args.branch) for i in rows]
        requests = [(s, item.instruction) for s, item in zip(speech, items, strict=True)]
        answers = []
        for start in range(0, len(requests), args.batch_size):
            with torch.no_grad():  # 24 tokens: room for answers longer than a label (session 12 tried such targets)
                answers += slm.generate(requests[start:start + args.batch_size], max_new_tokens=24)
        predicted = predict_labels(items, {item.id: a for item, a in zip(items, answers, strict=True)})
        if args.dump:
            with args.dump.open("a", encoding="utf-8") as out:
                for item, answer in zip(items, answers, strict=True):
                    out.write(json.dumps({"id": item.id, "task": task, "form": item.phrasing_form,
                                          "question": item.instruction, "yes_label": item.yes_label,
                                          "voice": item.voice, "reference": item.reference, "answer": answer,
                                          "predicted": predicted[item.id]}) + "\n")
        accuracy = np.mean([predicted[item.id] == item.reference for item in items])
        shares = answer_histogram(items, predicted)["shares"]  # label -> % of answers
        print(f"{task}: n {len(items)}  accuracy {100 * accuracy:.1f}  "
              f"balanced {balanced_accuracy(items, predicted):.1f}  "
              f"answers {', '.join(f'{label} {share:.0f}%' for label, share in shares.items())}  e.g. {answers[:4]}")
        forms = by_phrasing(items, predicted)["forms"]  # direct, open, yes_no, two_way
        print("  by form: " + ", ".join(f"{form} {row['accuracy']:.0f}% (n {row['n']})" for form, row in forms.items()))
        print("  by voice: " + ", ".join(f"{row['voice']} {row['accuracy']:.0f}% (n {row['n']})"
                                         for row in per_speaker(items, predicted)))


def rephrased(records: list[dict], places: list[int], phrasings: list, seed: int) -> list[dict]:
    """Each record asked with a phrasing drawn from `phrasings` for its label, seeded by the clip's place."""
    from textpro.data.paralinguistic import draw_phrasing

    out = []
    for place, record in zip(places, records, strict=True):
        phrasing = draw_phrasing(phrasings, record["reference"], np.random.default_rng([seed, place]))
        out.append({**record, "prompt": phrasing.text, "instruction": phrasing.text, "phrasing_form": phrasing.form,
                    "phrasing_seen": False, "yes_label": phrasing.asks[0] if phrasing.form == "yes_no" else None})
    return out


if __name__ == "__main__":
    main()
