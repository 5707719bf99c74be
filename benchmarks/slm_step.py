"""One stage-2 training step on CPU: the objective's response-only logits against every position's logits.

    .venv/bin/python benchmarks/slm_step.py CONFIG [--micro-batches 16] [--threads 2] \
        [--out benchmarks/results/slm_step.json]

CONFIG is a `textpro train slm --stage 2` config (e.g. the `config.yaml` a run writes beside its model; the default's
last step is `results/robust-hearing/s22/hacc85-args.sh` over `s11/cont-yn.yaml`). Its objective, data and collator
are built as training builds them, and N micro-batches spread evenly over the seeded sampler's first 4N (it groups
rows by length: long content rows and short paralinguistic rows come in runs, and the spread takes both as the run
mixes them) are each run twice, forward and backward, in alternating order so that machine-load
drift hits both alike:
  kept   `SLMObjective`: logits only at the positions that predict a response token (`logits_to_keep`)
  full   the same loss from every position's logits (the LM head and the vocabulary softmaxes over the prompt too),
         as the objective computed it before session 28
Reported: seconds per micro-batch of each (median, total), their ratio, and the largest relative difference of the
loss and of the gradients between the two (eval mode: no dropout, so the two must agree to float rounding).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F


def full_logits_loss(objective, batch: dict) -> torch.Tensor:
    """The objective's loss computed from every position's logits (token or per-example CE, KL, adapter-off KL)."""
    from textpro.train.kind import IGNORE_INDEX

    slm, keys = objective.slm, ("input_ids", "attention_mask", "prosody_vectors", "prosody_mask")

    def kept(logits, labels):  # (B, L, V) -> (K, V) logits predicting a response token, and their (B, L-1) labels
        return logits[:, :-1][labels[:, 1:] != IGNORE_INDEX], labels[:, 1:]

    student, labels = kept(slm(**{k: batch[k] for k in keys}).logits, batch["labels"])
    ce_labels = labels.masked_fill(~batch["ce_row"][:, None], IGNORE_INDEX)[labels != IGNORE_INDEX]
    rows_of = (labels != IGNORE_INDEX).nonzero()[:, 0]
    losses = F.cross_entropy(student.float(), ce_labels, ignore_index=IGNORE_INDEX, reduction="none")
    counted = (ce_labels != IGNORE_INDEX).float()
    if objective.ce_average == "token":
        ce = losses.sum() / counted.sum().clamp(min=1)
    else:
        sums = losses.new_zeros(len(labels)).index_add(0, rows_of, losses)
        counts = counted.new_zeros(len(labels)).index_add(0, rows_of, counted)
        ce = (sums[counts > 0] / counts[counts > 0]).mean() if (counts > 0).any() else student.sum() * 0
    rows = batch["kd_row"]
    if objective.kd_alpha == 0 or not rows.any():
        return ce if objective.kd_alpha == 0 else (1 - objective.kd_alpha) * ce
    with torch.no_grad(), slm.llm.disable_adapter():
        teacher_logits = slm.llm(input_ids=batch["teacher_input_ids"][rows],
                                 attention_mask=batch["teacher_attention_mask"][rows]).logits
    teacher, _ = kept(teacher_logits, batch["teacher_labels"][rows])
    log_teacher = F.log_softmax(teacher.float(), -1)

    def kl(logits):
        return F.kl_div(F.log_softmax(logits.float(), -1), log_teacher, log_target=True, reduction="batchmean")

    loss = (1 - objective.kd_alpha) * ce + objective.kd_alpha * kl(student[rows[rows_of]])
    if objective.base_kd > 0:
        with slm.llm.disable_adapter():
            base, _ = kept(slm(**{k: batch[k][rows] for k in keys}).logits, batch["labels"][rows])
        loss = loss + objective.base_kd * kl(base)
    return loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config")
    parser.add_argument("--micro-batches", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/slm_step.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from textpro.slm.training import SLMTrainingConfig, build
    from textpro.train.loop import seeded_dataloader

    config = SLMTrainingConfig.from_yaml(args.config, overrides=["train.output_dir=/tmp/textpro-slm-step"])
    if config.kd_alpha > 0 and not config.lora:
        raise SystemExit("the full-logits reference here covers LoRA students (the teacher is the adapter-off LLM)")
    objective, dataset, collator = build(config)
    objective.eval()  # no dropout: the two paths must agree
    loader = iter(seeded_dataloader(dataset, collator, config.train, dataset.lengths))
    batches = [batch for i, batch in zip(range(4 * args.micro_batches), loader, strict=False) if i % 4 == 0]
    parameters = [p for p in objective.parameters() if p.requires_grad]
    seconds = {"kept": [], "full": []}
    loss_diff = grad_diff = 0.0
    shapes = []
    for i, batch in enumerate(batches):
        shapes.append([*batch["input_ids"].shape, int(batch["kd_row"].sum()) if "kd_row" in batch else 0])
        results = {}
        for name in (("kept", "full") if i % 2 == 0 else ("full", "kept")):
            started = time.perf_counter()
            loss = objective(batch)["loss"] if name == "kept" else full_logits_loss(objective, batch)
            grads = torch.autograd.grad(loss, parameters, allow_unused=True)
            seconds[name].append(time.perf_counter() - started)
            results[name] = (loss.detach(), grads)
        (a, ga), (b, gb) = results["kept"], results["full"]
        loss_diff = max(loss_diff, float((a - b).abs() / b.abs().clamp(min=1e-12)))
        for x, y in zip(ga, gb, strict=True):
            if x is not None and y is not None:
                grad_diff = max(grad_diff, float((x - y).abs().max() / y.abs().max().clamp(min=1e-12)))
        print(f"micro-batch {i}: {shapes[-1]} kept {seconds['kept'][-1]:.2f} s, full {seconds['full'][-1]:.2f} s",
              flush=True)
    result = {
        "config": args.config, "threads": args.threads, "micro_batches": len(batches),
        "shapes (rows, length, KL rows)": shapes,
        "median_seconds": {k: round(statistics.median(v), 3) for k, v in seconds.items()},
        "total_seconds": {k: round(sum(v), 2) for k, v in seconds.items()},
        "speedup_total": round(sum(seconds["full"]) / sum(seconds["kept"]), 3),
        "max_relative_loss_difference": loss_diff, "max_relative_gradient_difference": grad_diff,
        "llm_dtype": str(next(objective.slm.llm.parameters()).dtype),
    }
    print(json.dumps(result, indent=1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
