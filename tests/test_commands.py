"""Every command README.md and BENCHMARKS.md show starts on a fresh install: each script under benchmarks/ answers
`--help` (no heavy import fails before its arguments are read), each `make` target they name exists, each
`textpro` subcommand they name parses its `--help`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "benchmarks").glob("*.py"))
DOCS = [REPO / "README.md", REPO / "BENCHMARKS.md"]


def shown_commands() -> list[str]:
    """The lines of the docs' ```bash blocks and `inline` commands (continuation lines joined)."""
    lines = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
            lines += block.replace("\\\n", " ").splitlines()
        lines += re.findall(r"`((?:make|\.venv/bin/textpro|textpro) [^`]+)`", text)
    return [line.split("#", 1)[0].strip() for line in lines if line.strip()]


def test_every_benchmark_script_starts():
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    # All at once: each is a bare interpreter start plus argparse, seconds in all.
    runs = {s.name: subprocess.Popen([sys.executable, str(s), "--help"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True) for s in SCRIPTS}
    for name, process in runs.items():
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0 and "usage:" in output, f"benchmarks/{name} --help:\n{output}"


def test_the_docs_name_only_scripts_that_exist():
    named = {m for doc in DOCS for m in re.findall(r"benchmarks/(\w+\.py)", doc.read_text(encoding="utf-8"))}
    assert named and named <= {s.name for s in SCRIPTS}


def test_every_make_target_shown_exists():
    targets = set(re.findall(r"^([\w-]+):", (REPO / "Makefile").read_text(), flags=re.M))
    shown = {line.split()[1] for line in shown_commands() if line.startswith("make ")}
    assert {"install", "bench", "mini", "reproduce", "benchmarks-md"} <= targets
    assert shown and shown <= targets, shown - targets


@pytest.mark.parametrize("words", sorted({
    tuple(w for w in line.split()[1:3] if re.fullmatch(r"[a-z][a-z-]*", w))
    for line in shown_commands() if re.match(r"(\.venv/bin/)?textpro ", line)} - {()}))
def test_every_textpro_command_shown_parses(words, capsys):
    from textpro.cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*words, "--help"])
    assert exit_.value.code == 0, words
