"""`textpro featurize`, `textpro distill`: the TextPro-SLM data commands; `textpro soup`, which averages seeds of
one model, and `textpro readout`, which teaches a projector to write a label its LLM reads (`textpro train slm` and
`textpro chat` are in textpro/cli.py: they combine layers)."""

from __future__ import annotations

import argparse
import json


def _featurize(args: argparse.Namespace) -> int:
    from textpro.console import quiet_libraries
    from textpro.slm.featurize import featurize
    from textpro.train import process_state

    quiet_libraries()
    meta = featurize(args.manifest, args.whisperpro, args.out, shard_size=args.shard_size,
                     batch_size=args.batch_size, max_seconds=args.max_seconds, progress=not args.quiet,
                     encoder_only=args.encoder_only, encoder_pool=args.encoder_pool)
    if process_state().is_main_process:
        what = f", encoder states at {meta['frames_per_second']:g} Hz" if args.encoder_only else ""
        print(f"featurized {meta['num_records']} utterances into {meta['num_shards']} shard(s) in {args.out} "
              f"(d_whisper {meta['d_whisper']}{what})")
    return 0


def _distill(args: argparse.Namespace) -> int:
    from textpro.console import quiet_libraries
    from textpro.errors import ConfigError
    from textpro.slm.distill import distill, student_answers

    quiet_libraries()
    prompts = None
    if args.prompts:
        from textpro.data.chat_prompts import chat_prompts

        prompts = chat_prompts()
    if args.student:
        if args.features is None or args.teacher_endpoint:
            raise ConfigError("textpro distill --student: give a feature cache directory (the student reads its "
                              "clips; with --prompts written, their prosody), and no --teacher-endpoint")
        written = student_answers(args.features, args.student, args.out, task=args.task,
                                  batch_size=args.batch_size, max_new_tokens=args.max_new_tokens, limit=args.limit,
                                  progress=not args.quiet, prompts=prompts, seed=args.seed)
        print(f"wrote {written} student answers to {args.out}" + ("" if written else " (all were done already)"))
        return 0
    endpoint = None
    if args.teacher_endpoint:
        import os

        endpoint = {"model": args.teacher_model, "concurrency": args.concurrency, "retries": args.retries,
                    "timeout": args.request_timeout, "api_key": os.environ.get("TEXTPRO_TEACHER_API_KEY")}
    if prompts is None and args.features is None:
        raise ConfigError("textpro distill: give a feature cache directory, or --prompts written")
    written = distill(args.features, args.teacher, args.out, source=args.source, task=args.task,
                      batch_size=args.batch_size, max_new_tokens=args.max_new_tokens,
                      system_prompt=args.system_prompt, limit=args.limit, progress=not args.quiet,
                      teacher_endpoint=args.teacher_endpoint, endpoint_options=endpoint, prompts=prompts)
    print(f"wrote {written} teacher answers to {args.out}" + ("" if written else " (all were done already)"))
    return 0


def _soup(args: argparse.Namespace) -> int:
    from textpro.slm.soup import SOUP_NAME, make_soup

    out = make_soup(args.checkpoints, args.out, weights=args.weights, lora=args.lora)
    methods = json.loads((out / SOUP_NAME).read_text())["lora"]
    lora = ", ".join(f"{name} {method}" for name, method in methods.items() if method != "mean")
    print(f"{out}: the average of {len(args.checkpoints)} checkpoints "
          f"(weights {', '.join(f'{w:g}' for w in args.weights) if args.weights else 'uniform'}"
          f"{'; LoRA: ' + lora if lora else ''})")
    return 0


def _readout(args: argparse.Namespace) -> int:
    from textpro.console import quiet_libraries
    from textpro.slm.readout import ReadoutConfig, fit_readout

    quiet_libraries()
    config = ReadoutConfig(task=args.task, engines=args.engines, seed=args.seed, offset_steps=args.offset_steps,
                           regress_steps=args.regress_steps)
    out = fit_readout(args.model, args.features, args.out, config)
    print(f"{out}: {args.model} with a projector that writes {args.task} where its LLM reads it")
    return 0


# distill's options that only matter with --teacher-endpoint: (flag, type, default, help after that prefix).
TEACHER_ENDPOINT_OPTIONS = (
    ("--teacher-model", None, None, "the served model's name (default: the first of /v1/models)"),
    ("--concurrency", int, 8, "requests in flight at once (default 8)"),
    ("--retries", int, 5, "retries per request on connection errors, 429 and 5xx, with exponential backoff "
                          "(default 5)"),
    ("--request-timeout", float, 600.0, "seconds per request (default 600)"),
)


def add_parsers(commands) -> None:
    featurize = commands.add_parser("featurize", help="run WhisperPro once over a manifest and cache transcripts + "
                                    "prosody vectors (sharded safetensors, resumable, one shard set per process)")
    featurize.add_argument("manifest", help="JSONL, one {\"audio\": path, ...} per line (paths relative to it)")
    featurize.add_argument("--whisperpro", default="whisper-tiny.en", help="WhisperPro name or directory")
    featurize.add_argument("--out", required=True, help="feature cache directory")
    featurize.add_argument("--shard-size", type=int, default=256, help="utterances per shard (default 256)")
    featurize.add_argument("--batch-size", type=int, default=8, help="clips per WhisperPro batch (default 8)")
    featurize.add_argument("--max-seconds", type=float, default=600.0, help="longest clip accepted (default 600)")
    featurize.add_argument("--encoder-only", action="store_true",
                           help="the continuous-adapter baseline's features: pooled Whisper encoder states, no "
                                "decoding (no transcript, no prosody vectors)")
    featurize.add_argument("--encoder-pool", type=int, default=2,
                           help="with --encoder-only: encoder frames averaged into one (default 2: 50 -> 25 Hz)")
    featurize.add_argument("--quiet", action="store_true", help="no progress bar")
    featurize.set_defaults(run=_featurize)

    distill = commands.add_parser("distill", help="the original text LLM answers each cached transcript: the "
                                  "distillation targets for TextPro-SLM stage 2 (resumable JSONL)")
    distill.add_argument("features", nargs="?", default=None, help="feature cache directory (`textpro featurize`)")
    distill.add_argument("--prompts", choices=("written",), default=None,
                         help="answer textpro's written everyday prompts (data/chat_prompts.py) instead of a feature "
                              "cache: the stage-2 `text_distill` rows")
    distill.add_argument("--teacher", default="smollm2-135m-instruct", help="text LLM name or HF directory")
    distill.add_argument("--student", default=None, metavar="DIR",
                         help="a TextPro-SLM directory: write its own answers to the clips instead of the teacher's "
                              "to the transcripts (stage 2's on_policy rows)")
    distill.add_argument("--seed", type=int, default=0,
                         help="with --student --prompts written: draws the clip each prompt is read around")
    distill.add_argument("--out", required=True, help="JSONL file (appended; ids already there are skipped)")
    distill.add_argument("--source", choices=("asr", "ground_truth"), default="asr",
                         help="what the teacher reads: the ASR transcript (default, the paper's best) or the "
                              "manifest's ground-truth text")
    distill.add_argument("--task", default=None,
                         help="only records whose manifest 'task' is this (e.g. semantic); default all")
    distill.add_argument("--batch-size", type=int, default=8)
    distill.add_argument("--max-new-tokens", type=int, default=256)
    distill.add_argument("--system-prompt", default=None, help="teacher system prompt (default: none, as the SLM)")
    distill.add_argument("--limit", type=int, default=None, help="only the first N records")
    distill.add_argument("--teacher-endpoint", default=None, metavar="URL",
                         help="answer through an OpenAI-compatible server's /v1/completions (vLLM, llama.cpp "
                              "server) instead of a local model; prompts are rendered here with --teacher's chat "
                              "template (only its tokenizer loads). API key: $TEXTPRO_TEACHER_API_KEY")
    for flag, kind, default, what in TEACHER_ENDPOINT_OPTIONS:
        distill.add_argument(flag, type=kind, default=default, help=f"with --teacher-endpoint: {what}")
    distill.add_argument("--quiet", action="store_true", help="no progress bar")
    distill.set_defaults(run=_distill)

    soup = commands.add_parser("soup", help="average the trained weights of several TextPro-SLM checkpoints that "
                               "fine-tuned one start with different seeds (a model soup): one ordinary checkpoint")
    soup.add_argument("checkpoints", nargs="+", help="two or more TextPro-SLM directories (same config, teacher, "
                                                      "WhisperPro)")
    soup.add_argument("--out", required=True, help="new directory for the soup")
    soup.add_argument("--weights", type=float, nargs="+", default=None,
                      help="one weight per checkpoint, summing to 1 (default: uniform)")
    # choices: soup.LORA_METHODS, not imported here so that the parser stays torch-free
    soup.add_argument("--lora", choices=("auto", "factors", "concat"), default="auto",
                      help="how LoRA adapters are averaged: 'factors' (A and B separately, a rank-r adapter: for seeds "
                           "that continued one adapter), 'concat' (the exact average of the updates, a rank-n·r "
                           "adapter: for adapters initialised apart), 'auto' (factors where the A factors share their "
                           "start, else concat; default)")
    soup.set_defaults(run=_soup)

    readout = commands.add_parser("readout", help="teach a trained TextPro-SLM's projector to write a task's label "
                                  "where its frozen LLM reads one: per-label offsets on the projected token, then the "
                                  "projector (with the mean encoder state) regressed onto them; no LLM weight moves")
    readout.add_argument("model", help="a TextPro-SLM directory (global injection, no encoder branch yet)")
    readout.add_argument("features", help="its training feature cache (`textpro featurize`)")
    readout.add_argument("--task", default="accent", help="the paralinguistic task to write (default accent)")
    readout.add_argument("--out", required=True, help="new directory for the model")
    readout.add_argument("--engines", nargs="+", default=None,
                         help="only clips of these TTS engines count as labelled (default: every labelled clip)")
    readout.add_argument("--offset-steps", type=int, default=40, help="Adam steps per label offset (default 40)")
    readout.add_argument("--regress-steps", type=int, default=600,
                         help="full-batch steps of the projector's regression (default 600)")
    readout.add_argument("--seed", type=int, default=0, help="draws the fit clips, keep rows and phrasings")
    readout.set_defaults(run=_readout)
