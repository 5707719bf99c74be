"""One accelerate training loop for every stage (WhisperPro, SLM stage 1 and 2).

A stage brings an *objective*: an `nn.Module` whose `forward(batch)` returns a dict of scalar tensors with a
"loss" key (the other entries are logged), whose trainable parameters are the ones with `requires_grad`, and which
has `save_pretrained(directory)` for the final artifacts (optionally `parameter_groups()` for per-group LR
scales). Plus a map-style dataset and its collate function. The loop owns everything else: processes and
devices (accelerate: one CPU; several CPU processes over gloo with `torchrun --nproc_per_node N -m textpro.cli
train …`; GPUs, DeepSpeed/FSDP with `accelerate launch`), AdamW with a linear warmup/decay schedule, gradient
accumulation to the configured global batch, clipping, a seeded data order, the loss log, checkpoints, resume.

Run directory (`config.output_dir`):
    log.jsonl                       one JSON line per `log_every` steps (also printed)
    checkpoints/step-00000100/      accelerate state: model.safetensors, optimizer, scheduler, RNG states
                                    + trainer_state.json (step, epoch, batches consumed in that epoch)
    model/                          objective.save_pretrained() at the end

Checkpoints are written to `checkpoints/tmp-…` and renamed into place when complete, so a crash leaves either
the previous checkpoint or the new one, never half of one. The optimizer/RNG files are pickles (accelerate's
format): `--resume` only ever loads them from this run's own directory, never from a user-supplied path.

Resume reproduces the uninterrupted run exactly: weights, optimizer, schedule and RNG states come back, the data
order is a function of (seed, epoch) only, and the batches already consumed in the current epoch are skipped
without being loaded (`skip_first_batches`).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm.auto import tqdm

from textpro.errors import ConfigError
from textpro.train.config import TrainConfig

CHECKPOINT_PATTERN = re.compile(r"^step-(\d{8})$")
STATE_NAME = "trainer_state.json"


@dataclass
class TrainResult:
    step: int  # optimizer steps done
    model_dir: Path | None  # where the final artifacts were saved (None when stopped early)
    last_log: dict  # the last loss-log record


class SeededSampler(Sampler[int]):
    """Data order as a pure function of (seed, epoch): the same on every process, and again after a resume.

    With `lengths`, examples of similar length are grouped into the same micro-batch (less padding): the
    transformers length-grouped order, i.e. shuffled mega-batches each sorted by length."""

    def __init__(self, num_examples: int, seed: int, batch_size: int, lengths: list[int] | None = None):
        self.num_examples, self.seed, self.batch_size, self.lengths = num_examples, seed, batch_size, lengths
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_examples

    def __iter__(self):
        rng = torch.Generator().manual_seed(self.seed + self.epoch)
        if self.lengths is None:
            return iter(torch.randperm(self.num_examples, generator=rng).tolist())
        from transformers.trainer_pt_utils import get_length_grouped_indices

        return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=rng))


def train(objective: nn.Module, dataset: Dataset, collate_fn, config: TrainConfig, *,
          lengths: list[int] | None = None, resume: bool = False, stop_after: int | None = None,
          description: str = "train") -> TrainResult:
    """Train `objective` on `dataset` as `config` says; see the module docstring for the contract.

    lengths: per-example lengths for length-grouped batches (less padding); None = plain shuffle.
    stop_after: stop (with a checkpoint) after this optimizer step, as an interrupted job would; the schedule
        still runs to max_steps, and `resume=True` continues. For time-boxed jobs and tests.

    The steps run in this order on every process (the order RNG draws and collectives happen in is part of what
    makes a resumed run bit-identical)."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    run_dir = Path(config.output_dir)
    checkpoints = run_dir / "checkpoints"
    last_checkpoint = latest_checkpoint(checkpoints)
    if last_checkpoint is not None and not resume:
        raise ConfigError(f"{run_dir} already has checkpoints: pass --resume to continue, or choose another output")

    process = process_state()
    accelerator = Accelerator(gradient_accumulation_steps=config.accumulation_steps(process.num_processes),
                              mixed_precision=config.mixed_precision, cpu=process.use_cpu_only)
    set_seed(config.seed)  # dropout etc.; restored from the checkpoint on resume

    dataloader = seeded_dataloader(dataset, collate_fn, config, lengths)
    parameters = [p for p in objective.parameters() if p.requires_grad]
    if not parameters:
        raise ConfigError("nothing to train: the objective has no parameters with requires_grad")
    optimizer = build_optimizer(objective, parameters, config)
    objective, optimizer, dataloader = accelerator.prepare(objective, optimizer, dataloader)
    total_steps, scheduler = build_schedule(accelerator, optimizer, dataloader, config)

    position = Position()
    if resume and last_checkpoint is not None:
        position = restore_checkpoint(accelerator, last_checkpoint)
    elif resume:
        accelerator.print(f"no checkpoint in {checkpoints}: starting from step 0")

    if accelerator.is_main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
    progress = tqdm(total=total_steps, initial=position.step, desc=description, dynamic_ncols=True,
                    disable=not accelerator.is_local_main_process)
    loop = _Loop(accelerator, objective, optimizer, scheduler, dataloader, parameters, config, total_steps,
                 stop_after, checkpoints, progress, position, LossLog(accelerator, run_dir, progress, position.step))
    loop.run()
    progress.close()
    if position.step == stop_after and position.step < total_steps:
        return TrainResult(step=position.step, model_dir=None, last_log=loop.loss_log.last)

    model_dir = save_model(accelerator, objective, run_dir)
    return TrainResult(step=position.step, model_dir=model_dir, last_log=loop.loss_log.last)


def seeded_dataloader(dataset: Dataset, collate_fn, config: TrainConfig, lengths: list[int] | None) -> DataLoader:
    sampler = SeededSampler(len(dataset), config.seed, config.micro_batch_size, lengths)
    return DataLoader(dataset, batch_size=config.micro_batch_size, sampler=sampler, collate_fn=collate_fn,
                      num_workers=config.num_workers,
                      # Own generator: creating an iterator must not draw from the global RNG, or a resumed
                      # run (one extra iterator) would get different dropout masks.
                      generator=torch.Generator().manual_seed(config.seed))


def build_optimizer(objective: nn.Module, parameters: list[nn.Parameter], config: TrainConfig):
    """AdamW with weight decay on matrices only (not biases and norms), per parameter group."""
    # An objective may scale the LR of some parameters (e.g. a freshly initialised head next to a pretrained
    # model): `parameter_groups()` → [{"params": [...], "lr_scale": float}, ...] covering every trainable one.
    groups = objective.parameter_groups() if hasattr(objective, "parameter_groups") else [{"params": parameters}]
    optimizer_groups = []
    for group in groups:
        trainable = [p for p in group["params"] if p.requires_grad]
        lr = config.learning_rate * group.get("lr_scale", 1.0)
        optimizer_groups += [
            {"params": [p for p in trainable if p.dim() >= 2], "lr": lr, "weight_decay": config.weight_decay},
            {"params": [p for p in trainable if p.dim() < 2], "lr": lr, "weight_decay": 0.0},  # biases, norms
        ]
    return torch.optim.AdamW([g for g in optimizer_groups if g["params"]], lr=config.learning_rate,
                             betas=config.adam_betas)


def build_schedule(accelerator, optimizer, dataloader, config: TrainConfig):
    """(total optimizer steps, the linear warmup/decay scheduler), the scheduler saved with each checkpoint."""
    from transformers import get_linear_schedule_with_warmup

    steps_per_epoch = math.ceil(len(dataloader) / accelerator.gradient_accumulation_steps)  # per process
    total_steps = config.max_steps or config.epochs * steps_per_epoch
    # Not passed to prepare(): accelerate would step it once per process. We step it once per optimizer step.
    scheduler = get_linear_schedule_with_warmup(optimizer.optimizer, min(config.warmup_steps, total_steps),
                                                total_steps)
    accelerator.register_for_checkpointing(scheduler)
    return total_steps, scheduler


@dataclass
class Position:
    """Where a run is: optimizer steps done, the epoch, and the micro-batches this process consumed in it."""

    step: int = 0
    epoch: int = 0
    batches_done: int = 0

    def next_epoch(self) -> None:
        self.epoch, self.batches_done = self.epoch + 1, 0


def restore_checkpoint(accelerator, checkpoint: Path) -> Position:
    """Weights, optimizer, scheduler and RNG states from `checkpoint`, and the position it was written at."""
    accelerator.load_state(str(checkpoint))
    saved = json.loads((checkpoint / STATE_NAME).read_text())
    position = Position(saved["step"], saved["epoch"], saved["batches_done"])
    accelerator.print(f"resuming from {checkpoint} (step {position.step})")
    return position


class LossLog:
    """Each metric summed over the micro-batches since the last line; a line (log.jsonl and the progress bar)
    holds their mean over those micro-batches and over processes."""

    def __init__(self, accelerator, run_dir: Path, progress, step: int):
        self.accelerator, self.run_dir, self.progress = accelerator, run_dir, progress
        self.sums: dict[str, torch.Tensor] = {}
        self.micro_batches, self.last, self.logged_step, self.started = 0, {}, step, time.perf_counter()

    def add(self, outputs: dict) -> None:
        self.micro_batches += 1
        for name, value in outputs.items():
            self.sums[name] = self.sums.get(name, 0.0) + value.detach().float()

    def write(self, step: int, epoch: int, lr: float) -> None:
        # A collective: every process reaches this line at the same step.
        means = {k: self.accelerator.reduce(v / self.micro_batches, "mean").item()
                 for k, v in sorted(self.sums.items())}
        seconds = (time.perf_counter() - self.started) / (step - self.logged_step)
        self.last = {"step": step, "epoch": epoch, "lr": lr, **means, "seconds_per_step": round(seconds, 4)}
        _log(self.accelerator, self.run_dir, self.last, self.progress)
        self.sums, self.micro_batches, self.logged_step, self.started = {}, 0, step, time.perf_counter()


@dataclass
class _Loop:
    """The epochs and steps of one run, from `position` to `total_steps` (or `stop_after`)."""

    accelerator: object
    objective: nn.Module
    optimizer: object
    scheduler: object
    dataloader: DataLoader
    parameters: list
    config: TrainConfig
    total_steps: int
    stop_after: int | None
    checkpoints: Path
    progress: object
    position: Position
    loss_log: LossLog

    def run(self) -> None:
        position = self.position
        self.objective.train()
        while position.step < self.total_steps:
            if position.batches_done >= len(self.dataloader):  # batches per epoch, per process
                position.next_epoch()
            self.dataloader.set_epoch(position.epoch)
            batches = (self.accelerator.skip_first_batches(self.dataloader, position.batches_done)
                       if position.batches_done else self.dataloader)
            if self.run_epoch(batches):
                break  # finished, or stop_after
            position.next_epoch()

    def run_epoch(self, batches) -> bool:
        """True when the run stopped inside this epoch (total_steps or stop_after reached)."""
        for batch in batches:
            outputs = self.micro_step(batch)
            self.position.batches_done += 1
            self.loss_log.add(outputs)
            if not self.accelerator.sync_gradients:
                continue
            if self.optimizer_step_done():
                return True
        return False

    def micro_step(self, batch) -> dict:
        """Forward and backward on one micro-batch; the optimizer steps when accumulation is complete."""
        accelerator, config = self.accelerator, self.config
        with accelerator.accumulate(self.objective):
            outputs = self.objective(batch)
            accelerator.backward(outputs["loss"])
            if accelerator.sync_gradients and config.max_grad_norm is not None:
                accelerator.clip_grad_norm_(self.parameters, config.max_grad_norm)
            self.optimizer.step()
            self.optimizer.zero_grad()
        return outputs

    def optimizer_step_done(self) -> bool:
        """After an optimizer step: the schedule, the log, a checkpoint; True when the run should stop."""
        position, config, total_steps = self.position, self.config, self.total_steps
        self.scheduler.step()
        position.step += 1
        self.progress.update(1)
        step = position.step
        if step % config.log_every == 0 or step == total_steps:
            self.loss_log.write(step, position.epoch, self.scheduler.get_last_lr()[0])
        if step % config.save_every == 0 or step in (total_steps, self.stop_after):
            save_checkpoint(self.accelerator, self.checkpoints, step, position.epoch, position.batches_done,
                            config.keep_last)
        return step >= total_steps or step == self.stop_after


def save_model(accelerator, objective: nn.Module, run_dir: Path) -> Path:
    """objective.save_pretrained() into run_dir/model, written aside and renamed into place."""
    model_dir = run_dir / "model"
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        tmp = run_dir / "tmp-model"
        shutil.rmtree(tmp, ignore_errors=True)
        accelerator.unwrap_model(objective).save_pretrained(tmp)
        shutil.rmtree(model_dir, ignore_errors=True)
        os.replace(tmp, model_dir)
    accelerator.wait_for_everyone()
    return model_dir


def process_state():
    """accelerate's PartialState for this process (call this, not PartialState(), before training starts).

    Processes started by `torchrun` on a machine without GPUs join one gloo group only if accelerate is told
    `cpu` from the first call on (`accelerate launch --cpu` needs MPI for several processes; torchrun does not)."""
    from accelerate import PartialState
    from accelerate.utils import parse_flag_from_env

    cpu = parse_flag_from_env("ACCELERATE_USE_CPU") or (
        int(os.environ.get("WORLD_SIZE", 1)) > 1 and not torch.cuda.is_available())
    state = PartialState(cpu=cpu)
    state.use_cpu_only = cpu
    return state


def _log(accelerator, run_dir: Path, record: dict, progress) -> None:
    if not accelerator.is_main_process:
        return
    with open(run_dir / "log.jsonl", "a") as log:
        log.write(json.dumps(record) + "\n")
    shown = {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in record.items()}
    progress.write(" ".join(f"{k}={v}" for k, v in shown.items()))


def latest_checkpoint(checkpoints: Path) -> Path | None:
    """The complete checkpoint with the highest step (tmp-… directories are unfinished and ignored)."""
    if not checkpoints.is_dir():
        return None
    steps = [(int(m.group(1)), path) for path in checkpoints.iterdir() if (m := CHECKPOINT_PATTERN.match(path.name))]
    return max(steps)[1] if steps else None


def save_checkpoint(accelerator, checkpoints: Path, step: int, epoch: int, batches_done: int, keep_last: int):
    """Write the full training state to checkpoints/step-N atomically, then delete all but the newest keep_last."""
    final = checkpoints / f"step-{step:08d}"
    tmp = checkpoints / f"tmp-step-{step:08d}"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))  # every process: each writes its own RNG state
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        state = {"step": step, "epoch": epoch, "batches_done": batches_done}
        (tmp / STATE_NAME).write_text(json.dumps(state) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        complete = sorted(p for p in checkpoints.iterdir() if CHECKPOINT_PATTERN.match(p.name))
        for old in complete[:-keep_last]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
