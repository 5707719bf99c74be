"""Does stage 1 teach the projector to hear? Paralinguistic accuracy on held-out voices before and after stage 1.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/slm_stage1_paralinguistic.py [--tasks gender pitch]
        [--train-per-task 64] [--test-per-task 32] [--epochs 2] [--out runs/bench-slm-stage1]

Clips are the mini world's (`textpro.data.mini.render`): a neutral sentence whose label (speaker gender, pitch
level) is only in the voice; train and test voices and sentences are disjoint. WhisperPro = real whisper-tiny.en,
LLM = real SmolLM2-135M-Instruct, global injection. "before" is the untrained model (mean-embedding projector: the
text LLM reading the transcript, so it can only guess); "after" is stage 1 (LLM frozen, projector trained).
A prediction is the first label the greedy answer names. Writes results.json in --out.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path


def make_split(out: Path, split: str, tasks: list[str], per_task: int, seed: int) -> Path:
    from textpro.data.mini import Job, render

    manifest = out / f"{split}.jsonl"
    if manifest.is_file():
        return manifest
    rows = [render(Job(seed, split, task, i, 0.0), out) for task in tasks for i in range(per_task)]
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["gender", "pitch"])
    parser.add_argument("--train-per-task", type=int, default=64)
    parser.add_argument("--test-per-task", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="runs/bench-slm-stage1")
    args = parser.parse_args()
    import torch  # after the arguments: `--help` answers without loading it

    torch.set_num_threads(args.threads)

    from textpro.console import quiet_libraries
    from textpro.data.paralinguistic import LABELS
    from textpro.slm import TextProSLM, TextProSLMConfig
    from textpro.slm.featurize import FeatureStore, featurize
    from textpro.slm.tasks import ParalinguisticConfig, paralinguistic_accuracy, paralinguistic_examples
    from textpro.slm.training import SLMTrainingConfig, run
    from textpro.train import TrainConfig

    quiet_libraries()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    stores = {}
    for split, n in (("train", args.train_per_task), ("test", args.test_per_task)):
        manifest = make_split(out / "clips", split, args.tasks, n, args.seed)
        featurize(manifest, "whisper-tiny.en", out / "features" / split, progress=False)
        stores[split] = FeatureStore(out / "features" / split)
    prepared = time.perf_counter()

    para = ParalinguisticConfig(labels={t: LABELS[t] for t in args.tasks})
    test = stores["test"]
    majority = {}
    for task in args.tasks:
        labels = [e.response for e in paralinguistic_examples([test], para) if e.kind == task]
        majority[task] = Counter(labels).most_common(1)[0][1] / len(labels)

    untrained = TextProSLM.from_base(TextProSLMConfig(d_whisper=test.d_whisper, whisperpro=test.whisperpro)).eval()
    before = paralinguistic_accuracy(untrained, test, para)
    del untrained

    config = SLMTrainingConfig(stage=1, features=[str(out / "features" / "train")], distill=None, paralinguistic=para,
                               max_length=256,
                               train=TrainConfig(output_dir=str(out / "stage1"), seed=args.seed, epochs=args.epochs,
                                                 batch_size=args.batch_size, micro_batch_size=args.batch_size,
                                                 learning_rate=args.learning_rate, warmup_steps=0, log_every=5,
                                                 save_every=10_000))
    import shutil

    shutil.rmtree(out / "stage1", ignore_errors=True)
    trained_at = time.perf_counter()
    result = run(config)
    trained = TextProSLM.from_pretrained(result.model_dir)
    after = paralinguistic_accuracy(trained, test, para)
    results = {
        "tasks": args.tasks, "train_examples": len(stores["train"]), "test_examples": len(test),
        "chance": {t: 1 / len(LABELS[t]) for t in args.tasks}, "majority": majority,
        "before_stage1": before, "after_stage1": after, "steps": result.step, "final_loss": result.last_log.get("loss"),
        "seconds": {"data": round(prepared - started, 1), "train": round(time.perf_counter() - trained_at, 1)},
        "args": vars(args),
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: results[k] for k in ("chance", "majority", "before_stage1", "after_stage1", "steps",
                                              "seconds")}, indent=1))


if __name__ == "__main__":
    main()
