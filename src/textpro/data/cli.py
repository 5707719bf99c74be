"""`textpro data ...`: data commands (the mini world's benchmark generator)."""

from __future__ import annotations

import argparse
import json


def _make_mini(args: argparse.Namespace) -> int:
    from textpro.data.mini import MiniConfig, make_mini

    config = MiniConfig(out=args.out, seed=args.seed, hours=args.hours, workers=args.workers,
                        robust=not args.no_robust, piper_fraction=args.piper_fraction, progress=not args.quiet)
    summary = make_mini(config)
    print(f"wrote {sum(summary['records'].values())} records, {summary['total_hours']:.3f} h of audio to "
          f"{args.out} in {summary['generation_seconds']:.0f} s ({summary['times_real_time']:.0f}× real time)")
    print("records per split: " + ", ".join(f"{k} {v}" for k, v in summary["records"].items()))
    if args.check:
        from textpro.data.probe import accent_phoneme_difference, format_report, probe_report

        report = probe_report(args.out, test_splits=("dev", "test", "test_robust"))
        report_text = format_report(report)
        phonemes = accent_phoneme_difference()
        print("label audibility:\n" + report_text)
        print(f"accent: {phonemes['differing_pairs']:.0%} of (sentence, accent pair) give different phonemes")
        (config.out / "check.json").write_text(json.dumps({"probe": report, "accent_phonemes": phonemes},
                                                          indent=2) + "\n")
    return 0


def add_parser(commands) -> None:
    data = commands.add_parser("data", help="make datasets")
    sub = data.add_subparsers(dest="data_command", required=True)
    mini = sub.add_parser("make-mini", help="synthesize the mini world's spoken benchmark (JSONL + FLAC)")
    mini.add_argument("--out", required=True, help="output directory")
    mini.add_argument("--seed", type=int, default=0, help="random seed (same seed, same benchmark)")
    mini.add_argument("--hours", type=float, default=2.0,
                      help="approximate hours of audio in train+dev+test (default 2; 0.01 for a smoke test)")
    mini.add_argument("--workers", type=int, default=1, help="processes (the output does not depend on it)")
    mini.add_argument("--piper-fraction", type=float, default=0.05,
                      help="share of train questions spoken by piper's natural voice (slow: ~3× real time)")
    mini.add_argument("--no-robust", action="store_true", help="skip the perturbed test_robust split")
    mini.add_argument("--check", action="store_true",
                      help="afterwards, report how well acoustic features separate each paralinguistic label")
    mini.add_argument("--quiet", action="store_true", help="no progress bar")
    mini.set_defaults(run=_make_mini)
