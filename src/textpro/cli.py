"""`textpro` command line. Errors a user can cause print one line and exit 2; nothing prints a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from textpro.console import print_prosody, quiet_libraries
from textpro.errors import TextproError

DEFAULT_ASR_MODEL = "whisper-tiny.en"
TRANSCRIBE_MAX_SECONDS = 600.0  # long audio is cut at pauses into <= 30 s segments, so transcribe takes 10 min


def _transcribe(args: argparse.Namespace) -> int:
    from textpro.audio import load_audio

    # Check the audio before loading any model: bad input fails in milliseconds, with one line.
    max_seconds = args.max_seconds
    if max_seconds is None:
        max_seconds = "default" if os.environ.get("TEXTPRO_MAX_AUDIO_SECONDS") else TRANSCRIBE_MAX_SECONDS
    samples = load_audio(args.audio, max_seconds=max_seconds)

    quiet_libraries()
    from textpro.whisperpro import Transcriber

    transcriber = Transcriber.from_pretrained(args.model)
    transcript = transcriber.transcribe(samples, max_seconds=None)  # SpeechTokens
    if args.prosody:
        from textpro.acoustics import summarize

        whole, spans = summarize(samples, [(w.start, w.end) for w in transcript.words])
    if args.json:
        record = transcript.to_dict(prosody_vectors=args.prosody_vectors, tokenizer=transcriber.tokenizer)
        if args.prosody:
            record["prosody"] = {"utterance": whole.to_dict(), "words": [s.to_dict() for s in spans]}
        print(json.dumps(record, ensure_ascii=False))
        return 0
    print(transcript.text)
    if not args.prosody:
        for word in transcript.words:
            print(f"  {word.start:6.2f} {word.end:6.2f}  {word.text}")
        return 0
    print_prosody(transcript, whole, spans)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from textpro.demo import run_demo
    from textpro.pipeline import DEFAULT_MODEL_DIR

    quiet_libraries()
    run_demo(args.model or DEFAULT_MODEL_DIR, max_new_tokens=args.max_new_tokens)
    return 0


# ---- textpro train <kind>: one subcommand per kind of training, all on the shared loop -------------------
# To add a kind: write `_<kind>(args) -> int` and register it in `_add_train_parser` like `whisperpro`.

def _whisperpro(args: argparse.Namespace) -> int:
    from textpro.whisperpro.training import WhisperProTrainingConfig, run

    config = WhisperProTrainingConfig.from_yaml(args.config, args.set)  # bad config: one line, before models load
    if args.no_reconstruction:
        config.reconstruction_weight = 0.0
        config.use_reconstructor = False
    return _train_kind(config, run, args, "model")


def _text_llm(args: argparse.Namespace) -> int:
    from textpro.deprecation import renamed_choice
    from textpro.train.text_llm import TextLLMTrainingConfig, run

    renamed_choice(args.kind, {"teacher": "text-llm"}, "textpro train")  # the old name works for one release
    return _train_kind(TextLLMTrainingConfig.from_yaml(args.config, args.set), run, args, "teacher")


def _slm(args: argparse.Namespace) -> int:
    from textpro.slm.training import SLMTrainingConfig, run

    config = SLMTrainingConfig.from_yaml(args.config, stage=args.slm_stage, overrides=args.set)  # bad: one line
    return _train_kind(config, run, args, "model")


def _train_kind(config, run, args: argparse.Namespace, what: str) -> int:
    """What every kind of training does once its config is read: apply --output, run (or resume), report from one
    process."""
    from textpro.train import process_state

    if args.output:
        config.train.output_dir = args.output
    quiet_libraries()
    result = run(config, resume=args.resume)
    if result.model_dir is not None and process_state().is_main_process:
        print(f"trained {result.step} steps; {what}: {result.model_dir}")
    return 0


def _train_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="YAML training config (see configs/)")
    parser.add_argument("--output", default=None, help="run directory (overrides train.output_dir)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config setting, dotted and read as YAML (e.g. --set train.max_steps=5); "
                        "repeatable, applied after the file")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the run directory's last checkpoint (starts fresh if there is none)")


def _add_train_parser(commands) -> None:
    train = commands.add_parser("train", help="train a model (several processes: `accelerate launch` on GPUs, "
                                   "`torchrun --nproc_per_node N -m textpro.cli train …` on CPUs)")
    kinds = train.add_subparsers(dest="kind", required=True)

    whisperpro = kinds.add_parser("whisperpro", help="fine-tune Whisper into WhisperPro (ASR + mel reconstruction)")
    _train_common(whisperpro)
    whisperpro.add_argument("--no-reconstruction", action="store_true",
                            help="ablation: λ = 0, plain ASR fine-tuning without the mel reconstructor")
    whisperpro.set_defaults(run=_whisperpro)

    slm = kinds.add_parser("slm", help="train TextPro-SLM: stage 1 (projector, LLM frozen) or 2 (+ LLM, full/LoRA)")
    _train_common(slm)
    slm.add_argument("--stage", dest="slm_stage", type=int, choices=(1, 2), default=None,
                     help="which stage (required when the config holds both under 'stages:')")
    slm.set_defaults(run=_slm)

    text_llm = kinds.add_parser("text-llm", aliases=["teacher"],
                                help="fine-tune the text LLM on the mini world's questions (the mini recipe's "
                                "distillation teacher and SLM base; 'teacher' is its deprecated name)")
    _train_common(text_llm)
    text_llm.set_defaults(run=_text_llm)


# ---- textpro chat: WhisperPro + TextPro-SLM (the pipeline) on one spoken question ---------------------------

def _chat(args: argparse.Namespace) -> int:
    from textpro.audio import load_audio
    from textpro.errors import ModelError

    samples = load_audio(args.audio)  # bad audio (or an unknown --int8 part) fails before any model loads
    if args.int8 is not None:
        from textpro.int8 import int8_parts

        int8_parts(args.int8)
    from textpro.pipeline import DEFAULT_MODEL_DIR

    model_dir = Path(args.model) if args.model else DEFAULT_MODEL_DIR
    if not args.model and not model_dir.is_dir():
        raise ModelError("no trained TextPro-SLM is embedded in this installation: pass --model DIR "
                         "(a `textpro train slm` result, e.g. runs/slm-stage2/model)")
    quiet_libraries()
    from textpro.pipeline import TextPro

    pipeline = TextPro.from_pretrained(model_dir, whisperpro=args.whisperpro)
    from textpro.int8 import quantize_int8, resolve_int8

    # nothing asked: the embedded default's WhisperPro decoder on CPU
    int8 = resolve_int8(args.int8, pipeline, embedded_default=not (args.model or args.whisperpro))
    if int8:
        quantize_int8(pipeline, int8)
    transcript = pipeline.listen(samples)
    print(f"transcript: {transcript.text}", flush=True)
    print("answer: ", end="", flush=True)

    def show(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    pipeline.slm.generate([(transcript, args.prompt)], max_new_tokens=args.max_new_tokens,
                          do_sample=args.temperature > 0, temperature=args.temperature or 1.0, on_text=show)
    print()
    return 0


def _add_chat_parser(commands) -> None:
    chat = commands.add_parser("chat", help="answer a spoken question: prints the transcript and the streamed answer")
    chat.add_argument("audio", help="WAV/FLAC/OGG/MP3 file")
    chat.add_argument("--prompt", default=None, help="an instruction about the audio (e.g. 'Is the speaker male "
                      "or female?'); default none: the audio is the question")
    chat.add_argument("--model", default=None, help="TextPro-SLM checkpoint directory (default: the embedded model)")
    chat.add_argument("--whisperpro", default=None, help="override the WhisperPro named by the checkpoint")
    chat.add_argument("--max-new-tokens", type=int, default=256)
    chat.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default); > 0 samples")
    chat.add_argument("--int8", nargs="?", const="all", default=None, metavar="PARTS",
                      help="CPU: int8 dynamic quantization of the Linear layers of WhisperPro's decoder and of the "
                           "LLM, as `textpro serve --int8`; PARTS: all (the flag alone), none, or some of "
                           "whisperpro,llm,lm_head. Without the flag: whisperpro for the embedded default on CPU "
                           "(BENCHMARKS.md)")
    chat.set_defaults(run=_chat)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="textpro", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    transcribe = commands.add_parser("transcribe", help="print the transcript of an audio file with word times")
    transcribe.add_argument("audio", help="WAV/FLAC/OGG/MP3 file")
    transcribe.add_argument("--model", default=DEFAULT_ASR_MODEL,
                            help=f"base model name or local HF Whisper directory (default {DEFAULT_ASR_MODEL})")
    transcribe.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    transcribe.add_argument("--prosody", action="store_true",
                            help="per word: duration, mean F0 and energy measured from the audio over its span")
    transcribe.add_argument("--prosody-vectors", action="store_true",
                            help="with --json: include the per-token prosody matrix and the utterance vector")
    transcribe.add_argument("--max-seconds", type=float, default=None,
                            help=f"longest audio accepted (default {TRANSCRIBE_MAX_SECONDS:g}, or "
                                 "$TEXTPRO_MAX_AUDIO_SECONDS); audio over 30 s is cut at pauses")
    transcribe.set_defaults(run=_transcribe)

    demo = commands.add_parser("demo", help="the embedded default model on its example clips: transcript, prosody, "
                                            "answers to the spoken question and to paralinguistic questions")
    demo.add_argument("--model", default=None, help="a TextPro-SLM directory with examples/ (default: the embedded "
                                                    "one)")
    demo.add_argument("--max-new-tokens", type=int, default=32)
    demo.set_defaults(run=_demo)

    from textpro.data.cli import add_parser as add_data_parser

    add_data_parser(commands)

    _add_train_parser(commands)

    from textpro.slm.cli import add_parsers as add_slm_parsers

    add_slm_parsers(commands)
    _add_chat_parser(commands)

    from textpro.recipe.cli import add_parser as add_recipe_parser

    add_recipe_parser(commands)

    from textpro.eval.cli import add_parser as add_eval_parser

    add_eval_parser(commands)

    from textpro.serve.cli import add_parser as add_serve_parser

    add_serve_parser(commands)

    from textpro.hub.cli import add_parser as add_models_parser

    add_models_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("TEXTPRO_THREADS_ALONE"):  # a recipe step started in the background (recipe/runner.py)
        from textpro.recipe.runner import follow_threads_signal

        follow_threads_signal()
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except TextproError as exc:
        print(f"textpro: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("textpro: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
