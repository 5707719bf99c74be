"""Renamed flags, subcommands, config keys and values keep working for one release, with one line on stderr."""

import argparse

import pytest

from textpro.deprecation import add_renamed_flag, rename_keys, renamed_choice
from textpro.errors import ConfigError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--new-value", dest="new_value", default="d")
    add_renamed_flag(p, "--old-value", "--new-value", dest="new_value")
    p.add_argument("--new-switch", dest="new_switch", action="store_true")
    add_renamed_flag(p, "--old-switch", "--new-switch", dest="new_switch", action="store_true")
    return p


def test_old_flag_sets_the_new_dest_and_says_so_in_one_line(capsys):
    args = parser().parse_args(["--old-value", "x", "--old-switch"])
    assert args.new_value == "x" and args.new_switch is True
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["textpro: option '--old-value' is deprecated, use '--new-value' (the old name goes in the next "
                     "release)", "textpro: option '--old-switch' is deprecated, use '--new-switch' (the old name "
                     "goes in the next release)"]


def test_new_flag_and_defaults_say_nothing_and_the_alias_is_hidden(capsys):
    p = parser()
    assert vars(p.parse_args([])) == {"new_value": "d", "new_switch": False}  # the alias adds no default
    assert vars(p.parse_args(["--new-value", "y"]))["new_value"] == "y"
    assert capsys.readouterr().err == ""
    assert "--old-value" not in p.format_help() and "--new-value" in p.format_help()


def test_renamed_choice(capsys):
    assert renamed_choice("teacher", {"teacher": "text-llm"}, "textpro train") == "text-llm"
    assert "textpro train 'teacher' is deprecated, use 'text-llm'" in capsys.readouterr().err
    assert renamed_choice("slm", {"teacher": "text-llm"}, "textpro train") == "slm"
    assert renamed_choice(2, {"teacher": "text-llm"}, "x") == 2
    assert capsys.readouterr().err == ""


def test_rename_keys(capsys):
    data = {"teacher": {"config": "c.yaml"}, "slm": 1}
    assert rename_keys(data, {"teacher": "text_llm"}, "r.yaml") == {"slm": 1, "text_llm": {"config": "c.yaml"}}
    assert data == {"teacher": {"config": "c.yaml"}, "slm": 1}  # the caller's mapping is left as it was
    assert capsys.readouterr().err.count("\n") == 1
    assert rename_keys({"slm": 1}, {"teacher": "text_llm"}, "r.yaml") == {"slm": 1}
    with pytest.raises(ConfigError, match="give only 'text_llm'"):
        rename_keys({"teacher": 1, "text_llm": 2}, {"teacher": "text_llm"}, "r.yaml")
