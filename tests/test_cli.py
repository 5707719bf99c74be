import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from textpro.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "textpro.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_non_audio_file_prints_one_line_and_exits_2():
    result = run_cli("transcribe", "README.md")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("textpro: error: README.md: not readable audio")


@pytest.mark.parametrize("make_input, message, options", [
    (lambda d: d / "missing.wav", "no such file", []),
    (lambda d: _write(d / "silent.wav", np.zeros(16_000, np.float32)), "silence", []),
    (lambda d: _write(d / "short.wav", 0.3 * np.ones(800, np.float32)), "too short", []),
    (lambda d: _write(d / "long.wav", 0.3 * np.ones(16_000 * 31, np.float32)), "longer than the 30 s",
     ["--max-seconds", "30"]),
])
def test_bad_audio_exits_2_with_message(tmp_path, capsys, make_input, message, options):
    assert main(["transcribe", str(make_input(tmp_path)), *options]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def _write(path, samples):
    sf.write(path, samples, 16_000)
    return path


@pytest.mark.slow
def test_transcribes_the_example_clip_with_word_times():
    result = run_cli("transcribe", "examples/hello.wav", "--json")
    assert result.returncode == 0, result.stderr
    transcript = json.loads(result.stdout)
    assert "never said she stole my money" in transcript["text"].lower()
    words = transcript["words"]
    assert [w["text"].strip("?.,").lower() for w in words][:3] == ["did", "you", "really"]
    assert all(w["start"] <= w["end"] for w in words)
    assert words[-1]["end"] <= transcript["duration"] + 1e-6


@pytest.mark.slow
def test_prosody_summary_per_word():
    result = run_cli("transcribe", "examples/hello.wav", "--prosody")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "F0 Hz" in lines[1] and lines[-1].startswith("utterance:")
    rows = [line.split() for line in lines[2:-1]]
    assert [row[-1].strip("?.").lower() for row in rows][:3] == ["did", "you", "really"]
    f0 = [float(row[3]) for row in rows if row[3] != "-"]
    assert len(f0) >= len(rows) - 2 and all(70 < v < 400 for v in f0)  # a man's voice, measured by pyworld
    assert all(float(row[0]) <= float(row[1]) for row in rows)
    as_json = json.loads(run_cli("transcribe", "examples/hello.wav", "--prosody", "--json").stdout)
    assert len(as_json["prosody"]["words"]) == len(as_json["words"])
    assert 70 < as_json["prosody"]["utterance"]["f0_mean"] < 400
