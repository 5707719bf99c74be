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
    if args.json:
        record = transcript.to_dict(prosody_vectors=args.prosody_vectors, tokenizer=transcriber.tokenizer)
        print(json.dumps(record, ensure_ascii=False))
        return 0
    print(transcript.text)
    for word in transcript.words:
        print(f"  {word.start:6.2f} {word.end:6.2f}  {word.text}")
    return 0


def _quiet_libraries() -> None:
    """Library progress bars and advice are noise on a command line; our own output is the result."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="textpro", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    transcribe = commands.add_parser("transcribe", help="print the transcript of an audio file with word times")
    transcribe.add_argument("audio", help="WAV/FLAC/OGG/MP3 file")
    transcribe.add_argument("--model", default=DEFAULT_ASR_MODEL,
                            help=f"base model name or local HF Whisper directory (default {DEFAULT_ASR_MODEL})")
    transcribe.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    transcribe.add_argument("--prosody-vectors", action="store_true",
                            help="with --json: include the per-token prosody matrix and the utterance vector")
    transcribe.add_argument("--max-seconds", type=float, default=None,
                            help=f"longest audio accepted (default {TRANSCRIBE_MAX_SECONDS:g}, or "
                                 "$TEXTPRO_MAX_AUDIO_SECONDS); audio over 30 s is cut at pauses")
    transcribe.set_defaults(run=_transcribe)

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
