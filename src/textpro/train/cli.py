"""`textpro train <stage>`: one subcommand per training stage, all on the shared loop.

To add a stage: write `_<stage>(args) -> int` and register it in `add_parser` like `whisperpro`."""

from __future__ import annotations

import argparse


def _whisperpro(args: argparse.Namespace) -> int:
    from textpro.whisperpro.training import WhisperProTrainingConfig, run

    config = WhisperProTrainingConfig.from_yaml(args.config)  # bad config: one line, before any model loads
    if args.no_reconstruction:
        config.reconstruction_weight = 0.0
        config.use_reconstructor = False
    return _train(config, run, args, "model")


def _teacher(args: argparse.Namespace) -> int:
    from textpro.train.teacher import TeacherTrainingConfig, run

    return _train(TeacherTrainingConfig.from_yaml(args.config), run, args, "teacher")


def _slm(args: argparse.Namespace) -> int:
    from textpro.slm.training import SLMTrainingConfig, run

    config = SLMTrainingConfig.from_yaml(args.config, stage=args.slm_stage)  # bad config: one line, before models
    return _train(config, run, args, "model")


def _train(config, run, args: argparse.Namespace, what: str) -> int:
    """What every stage does once its config is read: apply --output, run (or resume), report from one process."""
    from textpro.cli import _quiet_libraries
    from textpro.train import process_state

    if args.output:
        config.train.output_dir = args.output
    _quiet_libraries()
    result = run(config, resume=args.resume)
    if result.model_dir is not None and process_state().is_main_process:
        print(f"trained {result.step} steps; {what}: {result.model_dir}")
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="YAML training config (see configs/)")
    parser.add_argument("--output", default=None, help="run directory (overrides train.output_dir)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the run directory's last checkpoint (starts fresh if there is none)")


def add_parser(commands) -> None:
    train = commands.add_parser("train", help="train a model (several processes: `accelerate launch` on GPUs, "
                                   "`torchrun --nproc_per_node N -m textpro.cli train …` on CPUs)")
    stages = train.add_subparsers(dest="stage", required=True)

    whisperpro = stages.add_parser("whisperpro", help="fine-tune Whisper into WhisperPro (ASR + mel reconstruction)")
    _common(whisperpro)
    whisperpro.add_argument("--no-reconstruction", action="store_true",
                            help="ablation: λ = 0, plain ASR fine-tuning without the mel reconstructor")
    whisperpro.set_defaults(run=_whisperpro)

    slm = stages.add_parser("slm", help="train TextPro-SLM: stage 1 (projector, LLM frozen) or 2 (+ LLM, full/LoRA)")
    _common(slm)
    slm.add_argument("--stage", dest="slm_stage", type=int, choices=(1, 2), default=None,
                     help="which stage (required when the config holds both under 'stages:')")
    slm.set_defaults(run=_slm)

    teacher = stages.add_parser("teacher", help="fine-tune the text LLM on the mini world's questions (the teacher)")
    _common(teacher)
    teacher.set_defaults(run=_teacher)
