"""VoiceBench loader on tiny fixtures written in the published schema (hub parquet layout, no network)."""

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from tests.conftest import tone
from textpro.errors import ConfigError
from textpro.eval.voicebench import load_voicebench, voicebench_items

OBQA = [
    ("Which of these is a source of light?\nA. The moon\nB. A mirror\nC. The sun\nD. A rock", "C"),
    ("What do plants need to grow?\nA. Sunlight\nB. Plastic\nC. Sand only\nD. Darkness", "A"),
]


def _wav_bytes(seconds: float, rate: int, freq: float = 220.0) -> bytes:
    buffer = io.BytesIO()
    t = np.arange(int(seconds * rate)) / rate
    sf.write(buffer, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate, format="WAV")
    return buffer.getvalue()


def _write_parquet(path, rows, rate=22_050):
    """Rows as the hub stores them: audio {bytes, path}, prompt, reference."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({
        "audio": [{"bytes": _wav_bytes(0.4 + 0.1 * i, rate), "path": f"{i}.wav"} for i in range(len(rows))],
        "prompt": [p for p, _ in rows],
        "reference": [r for _, r in rows],
    })
    pq.write_table(table, path)


@pytest.fixture
def voicebench(tmp_path):
    root = tmp_path / "voicebench"
    _write_parquet(root / "openbookqa" / "test-00000-of-00001.parquet", OBQA)
    _write_parquet(root / "mmsu" / "law-00000-of-00001.parquet", [("Law q?\nA. a1\nB. b1\nC. c1\nD. d1", "B")])
    _write_parquet(root / "mmsu" / "biology-00000-of-00001.parquet",
                   [("Bio q1?\nA. x\nB. y\nC. z\nD. w", "D"), ("Bio q2?\nA. x\nB. y\nC. z\nD. w", "A")])
    return root


def test_openbookqa_records_in_our_schema(voicebench, tmp_path):
    records = list(load_voicebench(voicebench, "openbookqa", audio_dir=tmp_path / "audio"))
    assert [r["reference"] for r in records] == ["C", "A"]
    assert records[0]["prompt"] == OBQA[0][0] and records[0]["task"] == "openbookqa"
    samples, rate = sf.read(records[1]["audio"])
    assert rate == 16_000 and samples.ndim == 1
    assert len(samples) == pytest.approx(0.5 * 16_000, abs=2)  # resampled from 22.05 kHz, duration kept
    assert records[0]["id"] == "openbookqa/test/0"


def test_mmsu_concatenates_all_splits(voicebench, tmp_path):
    records = list(load_voicebench(voicebench, "mmsu", audio_dir=tmp_path / "audio"))
    assert [(r["split"], r["reference"]) for r in records] == [("biology", "D"), ("biology", "A"), ("law", "B")]
    assert len({r["id"] for r in records}) == 3


def test_items_are_multiple_choice(voicebench, tmp_path):
    items = voicebench_items(voicebench, "openbookqa", audio_dir=tmp_path / "audio")
    assert [(i.kind, i.reference, i.letters) for i in items] == [("mcq", "c", "abcd"), ("mcq", "a", "abcd")]
    assert items[0].options["c"] == "The sun" and items[0].audio_path.is_file() and items[0].instruction is None


def test_audio_is_decoded_once(voicebench, tmp_path):
    first = list(load_voicebench(voicebench, "openbookqa", audio_dir=tmp_path / "audio"))
    stamp = [(tmp_path / "audio" / "openbookqa" / "test" / f"{i:05d}.wav").stat().st_mtime_ns for i in range(2)]
    again = list(load_voicebench(voicebench, "openbookqa", audio_dir=tmp_path / "audio"))
    assert first == again
    assert stamp == [(tmp_path / "audio" / "openbookqa" / "test" / f"{i:05d}.wav").stat().st_mtime_ns
                     for i in range(2)]


def test_converter_layout_and_jsonl(tmp_path):
    root = tmp_path / "vb"
    _write_parquet(root / "mmsu" / "history" / "0000.parquet", [("H?\nA. 1\nB. 2\nC. 3\nD. 4", "C")])
    assert [r["split"] for r in load_voicebench(root, "mmsu", audio_dir=tmp_path / "a")] == ["history"]

    jsonl_dir = root / "openbookqa"
    jsonl_dir.mkdir(parents=True)
    sf.write(jsonl_dir / "q.wav", tone(0.5, rate=16_000), 16_000)
    (jsonl_dir / "test.jsonl").write_text(json.dumps({"audio": "q.wav", "prompt": OBQA[0][0], "reference": "C"}))
    (record,) = load_voicebench(root, "openbookqa", audio_dir=tmp_path / "a")
    assert record["reference"] == "C" and sf.info(record["audio"]).samplerate == 16_000


def test_errors(voicebench, tmp_path):
    with pytest.raises(ConfigError, match="no VoiceBench subset 'sd-qa'"):
        list(load_voicebench(voicebench, "sd-qa"))
    with pytest.raises(ConfigError, match="has no split 'dev'"):
        list(load_voicebench(voicebench, "openbookqa", split="dev"))
    (voicebench / "alpacaeval").mkdir()
    _write_parquet(voicebench / "alpacaeval" / "test-00000-of-00001.parquet", [("Tell me a story", "")])
    with pytest.raises(ConfigError, match="not multiple choice"):
        voicebench_items(voicebench, "alpacaeval")
    bad = tmp_path / "bad" / "openbookqa" / "test-00000-of-00001.parquet"
    bad.parent.mkdir(parents=True)
    pq.write_table(pa.table({"question": ["q"]}), bad)
    with pytest.raises(ConfigError, match="not VoiceBench data"):
        list(load_voicebench(tmp_path / "bad", "openbookqa", audio_dir=tmp_path / "x"))


def test_cli_voicebench(voicebench, tmp_path, monkeypatch, capsys):
    import textpro.eval.responders as responders
    from textpro.cli import main

    class Letters:
        name, batch_size = "always-c", 4

        def answer_text(self, prompts):
            return ["C"] * len(prompts)

    monkeypatch.setattr(responders.TextLLMResponder, "from_pretrained", classmethod(lambda cls, *a, **k: Letters()))
    out = tmp_path / "out"
    args = ["eval", "--bench", str(voicebench), "--voicebench", "openbookqa", "--text-only", "--out", str(out)]
    assert main(args) == 0
    saved = json.loads((out / "results.json").read_text())
    assert saved["bench"] == "voicebench/openbookqa" and saved["semantic"][0]["text"]["accuracy"] == 50.0
    assert (out / "voicebench-audio" / "openbookqa" / "test" / "00000.wav").is_file()


def test_save_to_disk_arrow_layout(tmp_path):
    """`datasets.save_to_disk` writes Arrow IPC streams: <subset>/<split>/data-00000-of-00001.arrow."""
    path = tmp_path / "vb" / "openbookqa" / "test" / "data-00000-of-00001.arrow"
    path.parent.mkdir(parents=True)
    table = pa.table({"audio": [{"bytes": _wav_bytes(0.5, 16_000), "path": "0.wav"}],
                      "prompt": [OBQA[1][0]], "reference": ["A"]})
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    (item,) = voicebench_items(tmp_path / "vb", "openbookqa", audio_dir=tmp_path / "a")
    assert item.reference == "a" and item.id == "openbookqa/test/0" and item.audio_path.is_file()


def test_limit_decodes_only_what_is_asked(voicebench, tmp_path):
    items = voicebench_items(voicebench, "mmsu", audio_dir=tmp_path / "a", limit=1)
    assert [i.id for i in items] == ["mmsu/biology/0"]
    assert len(list((tmp_path / "a").rglob("*.wav"))) == 1
