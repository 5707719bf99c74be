"""`textpro eval`: the modality gap of a speech LLM on a benchmark, against the original text LLM."""

from __future__ import annotations

import argparse
from pathlib import Path

from textpro.errors import ConfigError

DEFAULT_TEXT_MODEL = "smollm2-135m-instruct"

EPILOG = """examples:
  textpro eval --bench mini/ --text-only                       # the text LLM alone
  textpro eval --bench mini/ --endpoint http://localhost:8000  # any OpenAI-compatible server with audio input
  textpro eval --bench voicebench/ --voicebench openbookqa --endpoint http://localhost:8000 --limit 50
results: OUT/results.json, OUT/results.md, OUT/results.png; responses are cached in OUT/responses.jsonl (acoustic
measurements for the rule baselines in OUT/acoustics.jsonl), so running the same command again resumes where it
stopped. With --model, every table also shows the cascade of the SLM's own transcripts into --text-model and the
same SLM with its prosody replaced by the training mean; the benchmark's train split fits the acoustic rules."""


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "eval", help="modality gap (text LLM on text vs speech LLM on speech) and paralinguistic accuracy",
        description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", required=True, metavar="DIR",
                        help="benchmark directory (<split>.jsonl + audio), or a VoiceBench copy with --voicebench")
    parser.add_argument("--split", default="test", help="benchmark split (default test)")
    parser.add_argument("--voicebench", metavar="SUBSET", default=None,
                        help="read DIR as a local VoiceBench copy and evaluate this subset (openbookqa, mmsu)")
    parser.add_argument("--text-model", default=DEFAULT_TEXT_MODEL, metavar="NAME|DIR",
                        help=f"the original text LLM (default {DEFAULT_TEXT_MODEL})")
    speech = parser.add_mutually_exclusive_group()
    speech.add_argument("--model", metavar="DIR", help="TextPro-SLM checkpoint directory to evaluate on speech")
    speech.add_argument("--endpoint", metavar="URL",
                        help="OpenAI-compatible chat server accepting input_audio (…/v1/chat/completions)")
    speech.add_argument("--text-only", action="store_true", help="evaluate only the text LLM on the text prompts")
    speech.add_argument("--cascade", metavar="WHISPER",
                        help="the cascade baseline: this Whisper/WhisperPro's transcript (+ the instruction) goes "
                             "to the text LLM; no prosody reaches it")
    parser.add_argument("--whisperpro", metavar="DIR", default=None,
                        help="with --model: override the WhisperPro the checkpoint names (e.g. a downloaded "
                             "qqjz/WhisperPro)")
    parser.add_argument("--endpoint-model", default=None, help="`model` field sent to the endpoint")
    parser.add_argument("--endpoint-concurrency", type=int, default=4, help="parallel requests (default 4)")
    parser.add_argument("--out", default="eval-out", metavar="DIR", help="results directory (default eval-out)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="at most N items per task")
    parser.add_argument("--batch-size", type=int, default=8, help="text LLM batch size (default 8)")
    parser.add_argument("--max-new-tokens", type=int, default=48, help="text LLM answer length (default 48)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random-letter fallback and the paired bootstrap (default 0)")
    parser.add_argument("--no-diagnostics", dest="diagnostics", action="store_false",
                        help="skip the SLM's prosody-neutral and cascade answers (about 2x less model time)")
    parser.add_argument("--ledger", metavar="PATH", default=None,
                        help="append a line (git sha, model config hash, n per task, headline numbers) to this JSONL "
                             "when the split's name starts with 'test' (e.g. results/ledger.jsonl)")
    parser.add_argument("--match-option-text", action="store_true",
                        help="also accept an answer that states exactly one option's text (VoiceBench does not)")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from textpro.eval.bench import load_bench
    from textpro.eval.harness import train_split

    if not (args.text_only or args.model or args.endpoint or args.cascade):
        raise ConfigError("say what answers the spoken questions: --model DIR, --endpoint URL, --cascade WHISPER "
                          "or --text-only")
    if args.limit is not None and args.limit < 1:
        raise ConfigError("--limit must be at least 1")
    out = Path(args.out)
    # Read the benchmark before loading any model: a wrong path fails in milliseconds.
    if args.voicebench:
        from textpro.eval.voicebench import voicebench_items

        items = voicebench_items(args.bench, args.voicebench, split=args.split, audio_dir=out / "voicebench-audio",
                                 limit=args.limit)
        bench_name, split = f"voicebench/{args.voicebench}", args.split
    else:
        items = load_bench(args.bench, args.split)
        bench_name, split = args.bench, args.split
    train_items = None if args.voicebench else train_split(args.bench, args.split)
    if not items:
        raise ConfigError(f"{args.bench}: split {args.split!r} has no items")

    from textpro.console import quiet_libraries
    from textpro.eval.harness import run_and_report
    from textpro.eval.report import markdown_table
    from textpro.eval.responders import EndpointResponder, TextLLMResponder, speech_responder_for_model

    speech = None
    if args.model:
        # fails fast (ModelError) on a non-SLM directory
        speech = speech_responder_for_model(args.model, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens,
                                            whisperpro=args.whisperpro)
    elif args.endpoint:
        speech = EndpointResponder(args.endpoint, model=args.endpoint_model, concurrency=args.endpoint_concurrency)
    quiet_libraries()
    text = TextLLMResponder.from_pretrained(args.text_model, batch_size=args.batch_size,
                                            max_new_tokens=args.max_new_tokens)
    if args.cascade:
        speech = cascade_responder(args.cascade, text)
    result = run_and_report(items, text, speech, bench=bench_name, split=split, out_dir=out, limit=args.limit,
                            seed=args.seed, match_option_text=args.match_option_text, train_items=train_items,
                            ledger=args.ledger, model_dir=args.model or args.cascade, diagnostics=args.diagnostics)
    print(markdown_table(result))
    print(f"wrote {out / 'results.json'}, {out / 'results.md'}, {out / 'results.png'}")
    return 0


def cascade_responder(whisper: str, text):
    """ASR (a Whisper name or directory, greedy) -> the text responder: `textpro eval --cascade WHISPER`."""
    from textpro.eval.responders import CascadeResponder
    from textpro.whisperpro import Transcriber

    transcriber = Transcriber.from_pretrained(whisper)
    return CascadeResponder(lambda path: transcriber.transcribe(str(path), max_seconds=None).text, text,
                            name=f"cascade:{Path(str(whisper)).name}+{text.name}")
