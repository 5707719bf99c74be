"""The layering of textpro (pyproject.toml [tool.importlinter]; textpro/__init__.py says what each layer holds) is
checked here with import-linter: each layer imports only from the layers below it, and no package's modules import
each other in a cycle. A broken contract fails this test with import-linter's report (which import, which line)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "textpro"


def lint(config: Path) -> tuple[int, str]:
    """import-linter's `lint-imports` on `config`, in its own process: in-process it writes to the stream it found
    when first imported, which pytest may have closed by then (a lost-stderr crash in the full suite)."""
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    done = subprocess.run([command, "--config", str(config), "--no-cache"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


def test_the_import_contracts_are_kept():
    import textpro

    assert Path(textpro.__file__).resolve().parent == SRC, "the contracts must be checked on this checkout's source"
    code, report = lint(ROOT / "pyproject.toml")
    assert code == 0, report
    assert "2 kept, 0 broken" in report


def test_an_upward_import_breaks_the_layers_contract(tmp_path):
    """The check is live: with errors declared above the command line, cli's `import textpro.errors` is upward."""
    config = tmp_path / "importlinter.toml"
    config.write_text('[tool.importlinter]\nroot_package = "textpro"\n\n[[tool.importlinter.contracts]]\n'
                      'name = "upside down"\ntype = "layers"\nlayers = ["textpro.errors", "textpro.cli"]\n')
    code, report = lint(config)
    assert code != 0
    assert "textpro.cli -> textpro.errors" in report


def test_no_string_based_dynamic_imports():
    """Every dependency is an import statement that readers, ruff and import-linter can see."""
    pattern = re.compile(r"\bimport_module\s*\(|\b__import__\s*\(")
    found = [f"{path.relative_to(ROOT)}:{number}" for path in sorted(SRC.rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not found, found


@pytest.mark.parametrize("words", [("data", "make-mini"), ("train", "text-llm"), ("train", "whisperpro"),
                                   ("train", "slm"), ("featurize",), ("distill",), ("eval",), ("chat",)])
def test_the_commands_the_recipes_run_exist(words):
    """The recipes run `textpro WORDS…` in subprocesses (recipe/ does not import the command line, which sits above
    it): each of those commands is in the parser."""
    import argparse

    from textpro.cli import build_parser

    parser = build_parser()
    for word in words:
        choices = next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        assert word in choices, f"no `textpro {' '.join(words)}`"
        parser = choices[word]
