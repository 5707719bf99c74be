"""`textpro` command line. Errors a user can cause print one line and exit 2; nothing prints a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys

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

    _quiet_libraries()
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


def print_prosody(transcript, whole, spans, write=print) -> None:
    """Each word with its times, length, pitch (and how far from the speaker's mean) and loudness."""
    write(f"  {'start':>6} {'end':>6} {'dur':>5} {'F0 Hz':>6} {'vs mean':>7} {'energy dB':>9}  word")
    for word, span in zip(transcript.words, spans, strict=True):
        f0 = f"{span.f0_mean:6.0f}" if span.f0_mean else f"{'-':>6}"
        relative = f"{100 * (span.f0_mean / whole.f0_mean - 1):+6.0f}%" if span.f0_mean and whole.f0_mean else " " * 7
        write(f"  {word.start:6.2f} {word.end:6.2f} {span.duration:5.2f} {f0} {relative} {span.energy_db:9.1f}  "
              f"{word.text}")
    speech = sum(s.duration for s in spans)
    rate = f"{len(spans) / speech:.1f} words/s" if speech > 0 else "no words"
    pitch = (f"F0 mean {whole.f0_mean:.0f} Hz (range {whole.f0_min:.0f}-{whole.f0_max:.0f})"
             if whole.f0_mean else "no voiced speech")
    write(f"utterance: {transcript.duration:.1f} s, {rate}, {pitch}, energy {whole.energy_db:.1f} dB")


def _demo(args: argparse.Namespace) -> int:
    from textpro.demo import run_demo
    from textpro.pipeline import DEFAULT_MODEL_DIR

    _quiet_libraries()
    run_demo(args.model or DEFAULT_MODEL_DIR, max_new_tokens=args.max_new_tokens)
    return 0


def _quiet_libraries() -> None:
    """Library progress bars and advice are noise on a command line; our own output is the result."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)  # library deprecations, not the user's concern


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

    from textpro.train.cli import add_parser as add_train_parser

    add_train_parser(commands)

    from textpro.slm.cli import add_parsers as add_slm_parsers

    add_slm_parsers(commands)

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
