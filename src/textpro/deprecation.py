"""Renamed names keep working for one release: a CLI flag, a CLI subcommand, a config key or a config value given
under its old name still works and prints one line on stderr saying the new name.

    add_renamed_flag(parser, "--old-flag", "--new-flag", dest="new_flag")    # argparse: the old flag, hidden
    kind = renamed_choice(args.kind, {"teacher": "text-llm"}, "textpro train")  # a subcommand's old name
    data = rename_keys(data, {"teacher": "text_llm"}, where="recipe-mini.yaml") # config keys
    value = renamed_choice(value, {"adapter": "encoder_baseline"}, "audio_input")  # config values

Saved file names inside checkpoints never change (old checkpoints load as they are); only what a user types or
writes does. Delete an alias one release after its rename (the message says which name replaced it).
"""

from __future__ import annotations

import argparse
import sys

from textpro.errors import ConfigError


def warn_renamed(old: str, new: str, what: str) -> None:
    """The one line: `textpro: <what> 'old' is deprecated, use 'new' (the old name goes in the next release)`."""
    print(f"textpro: {what} {old!r} is deprecated, use {new!r} (the old name goes in the next release)",
          file=sys.stderr)


def add_renamed_flag(parser: argparse.ArgumentParser, old: str, new: str, **kwargs) -> None:
    """`old` as a hidden alias of the already added flag `new`: the same dest and action (pass them as for `new`),
    no default of its own, and the deprecation line when it is used."""
    base = parser._registry_get("action", kwargs.pop("action", "store"), None)

    class Renamed(base):
        def __call__(self, parser, namespace, values, option_string=None):
            warn_renamed(option_string, new, "option")
            super().__call__(parser, namespace, values, option_string)

    parser.add_argument(old, action=Renamed, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **kwargs)


def renamed_choice(value, renames: dict, what: str):
    """`value` under its new name (a subcommand's or a config value's), with the line when it was an old one."""
    if isinstance(value, str) and value in renames:
        warn_renamed(value, renames[value], what)
        return renames[value]
    return value


def rename_keys(data: dict, renames: dict[str, str], where: str) -> dict:
    """A copy of the mapping `data` with each old key under its new name (the line for each); ConfigError when both
    names are given."""
    data = dict(data)
    for old, new in renames.items():
        if old not in data:
            continue
        if new in data:
            raise ConfigError(f"{where}: {old!r} and {new!r} are the same setting (renamed): give only {new!r}")
        warn_renamed(old, new, f"{where}: key")
        data[new] = data.pop(old)
    return data
