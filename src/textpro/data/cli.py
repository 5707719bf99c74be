"""`textpro data ...`: data commands (the mini world's benchmark generator, dataset importers)."""

from __future__ import annotations

import argparse
import json


def _make_mini(args: argparse.Namespace) -> int:
    from textpro.data.mini import MiniConfig, make_mini

    config = MiniConfig(out=args.out, seed=args.seed, hours=args.hours, workers=args.workers,
                        robust=not args.no_robust, piper_fraction=args.piper_fraction,
                        festival_fraction=args.festival_fraction, conversion_fraction=args.conversion_fraction,
                        resynth_fraction=args.resynth_fraction, condition_fraction=args.condition_fraction,
                        train_requests=args.train_requests, unseen=not args.no_unseen,
                        dev_unseen=_sizes(args, "dev_unseen"), test_unseen=_sizes(args, "test_unseen"),
                        test_sizes=tuple(args.test_sizes) if args.test_sizes else None, progress=not args.quiet)
    summary = make_mini(config)
    print(f"wrote {sum(summary['records'].values())} records, {summary['total_hours']:.3f} h of audio to "
          f"{args.out} in {summary['generation_seconds']:.0f} s ({summary['times_real_time']:.0f}× real time)")
    print("records per split: " + ", ".join(f"{k} {v}" for k, v in summary["records"].items()))
    if args.check:
        from textpro.data.probe import accent_phoneme_difference, format_report, probe_report

        report = probe_report(args.out, test_splits=("dev", "test", "test_robust", "dev_unseen", "test_unseen"))
        report_text = format_report(report)
        phonemes = accent_phoneme_difference()
        print("label audibility:\n" + report_text)
        print(f"accent: {phonemes['differing_pairs']:.0%} of (sentence, accent pair) give different phonemes")
        (config.out / "check.json").write_text(json.dumps({"probe": report, "accent_phonemes": phonemes},
                                                          indent=2) + "\n")
    return 0


def _sizes(args: argparse.Namespace, split: str) -> tuple[int, int, int] | None:
    """(semantic, per task, requests) of an unseen split from its options; None: all defaults (scaled by --hours)."""
    from textpro.data.mini import DEFAULT_UNSEEN

    given = [getattr(args, f"{split}_{part}") for part in ("semantic", "per_task", "requests")]
    if all(v is None for v in given):
        return None
    scale = args.hours / 2.0
    defaults = [max(1, round(n * scale)) for n in DEFAULT_UNSEEN[split]]
    return tuple(int(v) if v is not None else d for v, d in zip(given, defaults, strict=True))


def _import(args: argparse.Namespace) -> int:
    from textpro.data.importers import import_dataset
    from textpro.errors import DataError

    options = {}
    for item in args.option or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DataError(f"--option expects KEY=VALUE, got {item!r}")
        options[key.strip()] = {"true": True, "false": False}.get(value.strip().lower(), value.strip())
    options.setdefault("progress", not args.quiet)
    splits = tuple(s.strip() for s in args.splits.split(",")) if args.splits else None
    summary = import_dataset(args.kind, args.dir, args.out, splits=splits, seed=args.seed,
                             dev_fraction=args.dev_fraction,
                             test_fraction=args.test_fraction, limit=args.limit, voice=args.voice, options=options)
    print(f"wrote {summary['records']} records ({', '.join(f'{k} {v}' for k, v in sorted(summary['splits'].items()))}"
          f"; {summary['speakers_text']}) to {args.out}")
    return 0


def _export_hf(args: argparse.Namespace) -> int:
    from textpro.data.importers.hf import export_hf

    rows = export_hf(args.manifest, args.out, parquet=args.parquet)
    print(f"wrote {sum(rows.values())} rows ({', '.join(f'{k} {v}' for k, v in rows.items())}) to {args.out}")
    return 0


def _add_import_parsers(sub) -> None:
    from textpro.data.importers import KINDS

    imp = sub.add_parser("import", help="a public dataset folder, as its release lays it out, into a JSONL manifest")
    imp.add_argument("kind", metavar="KIND", help="one of: " + ", ".join(KINDS))
    imp.add_argument("dir", help="the dataset folder")
    imp.add_argument("--out", required=True, help="manifest to write (JSONL; audio paths relative to it)")
    imp.add_argument("--seed", type=int, default=0, help="seed of the speaker-disjoint split (default 0)")
    imp.add_argument("--dev-fraction", type=float, default=0.1, help="share of speakers in dev (default 0.1)")
    imp.add_argument("--test-fraction", type=float, default=0.1, help="share of speakers in test (default 0.1)")
    imp.add_argument("--splits", default=None, help="write only these splits, e.g. train or dev,test (the "
                     "speaker split is made over the whole corpus all the same)")
    imp.add_argument("--limit", type=int, default=None, help="at most N records (TTS kinds: N clips spoken)")
    imp.add_argument("--voice", default=None, help="TTS kinds: espeak (a rotation, default), "
                     "espeak:<accent>+<variant>, or piper")
    imp.add_argument("--option", action="append", metavar="KEY=VALUE",
                     help="kind-specific: audio_root (paraspeechcaps), mic (vctk), song (ravdess), esd_all, "
                          "iemocap_keep_excited, timbre / subjects (voxeval), subsets / split (voicebench), "
                          "files / max_words (ultrachat), workers (TTS kinds), min_clips (cv-accents), "
                          "audio_column (hf)")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    imp.set_defaults(run=_import)

    export = sub.add_parser("export-hf", help="write a manifest as a Hugging Face dataset with an Audio column")
    export.add_argument("manifest", help="JSONL manifest")
    export.add_argument("--out", required=True, help="output folder (save_to_disk layout, or data/*.parquet)")
    export.add_argument("--parquet", action="store_true", help="parquet files, one per split, instead")
    export.set_defaults(run=_export_hf)


# make-mini's shares of clips that get another voice or treatment: (flag, default, what it is a share of).
MINI_SHARES = (
    ("--piper-fraction", 0.08, "train clips (semantic, gender, pitch, rate, request) spoken by piper's joe"),
    ("--festival-fraction", 0.12, "those train clips spoken by festival's ked voice (needs festival)"),
    ("--conversion-fraction", 0.25, "clips gender-converted with WORLD (F0 and formant warping; not style)"),
    ("--resynth-fraction", 0.15, "clips WORLD-resynthesised without conversion (same vocoder sound)"),
    ("--condition-fraction", 0.4, "train clips with 1-2 recording conditions (level, noise, reverb, telephone band, "
                                  "MP3/OGG)"),
)


def add_parser(commands) -> None:
    data = commands.add_parser("data", help="make datasets")
    sub = data.add_subparsers(dest="data_command", required=True)
    mini = sub.add_parser("make-mini", help="synthesize the mini world's spoken benchmark (JSONL + FLAC)")
    mini.add_argument("--out", required=True, help="output directory")
    mini.add_argument("--seed", type=int, default=0, help="random seed (same seed, same benchmark)")
    mini.add_argument("--hours", type=float, default=2.0,
                      help="approximate hours of audio in train+dev+test (default 2; 0.01 for a smoke test)")
    mini.add_argument("--workers", type=int, default=1, help="processes (the output does not depend on it)")
    for flag, default, share_of in MINI_SHARES:
        mini.add_argument(flag, type=float, default=default, help=f"share of {share_of}")
    mini.add_argument("--train-requests", type=int, default=None,
                      help="everyday spoken requests in train (default 300 per 2 h of --hours)")
    for split, sizes in (("dev-unseen", "60, 30, 30"), ("test-unseen", "300, 150, 60")):
        for part, what in (("semantic", "questions"), ("per-task", "clips per task (gender, pitch, rate)"),
                           ("requests", "requests")):
            mini.add_argument(f"--{split}-{part}", type=int, default=None,
                              help=f"{split}: {what} (defaults {sizes} for semantic, per task, requests, "
                                   "per 2 h of --hours)")
    mini.add_argument("--test-sizes", type=int, nargs=2, metavar=("SEMANTIC", "PER_TASK"), default=None,
                      help="records of the test split (semantic, per paralinguistic task) instead of its share "
                           "of --hours (test_robust keeps that share)")
    mini.add_argument("--no-unseen", action="store_true",
                      help="skip dev_unseen/test_unseen (flite voices; needed when flite is not installed)")
    mini.add_argument("--no-robust", action="store_true", help="skip the perturbed test_robust split")
    mini.add_argument("--check", action="store_true",
                      help="afterwards, report how well acoustic features separate each paralinguistic label")
    mini.add_argument("--quiet", action="store_true", help="no progress bar")
    mini.set_defaults(run=_make_mini)
    _add_import_parsers(sub)
