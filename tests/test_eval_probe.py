"""The probe table (Table 2): linear and 2-layer MLP probes, per-task selection, the vector cache, the report."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from textpro.eval.probe import main, markdown_table, probe_accuracy, run_probes, select_records

pytestmark = pytest.mark.usefixtures("one_thread")


def test_linear_probe_separates_a_linear_label_and_the_mlp_an_xor():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 3)).astype(np.float32)
    linear = ["a" if v > 0 else "b" for v in x[:, 0] + 0.5 * x[:, 1]]
    assert probe_accuracy(x[:300], linear[:300], x[300:], linear[300:], "1-layer") >= 95
    xor = ["a" if v > 0 else "b" for v in x[:, 0] * x[:, 1]]  # no linear boundary
    assert probe_accuracy(x[:300], xor[:300], x[300:], xor[300:], "1-layer") < 75
    assert probe_accuracy(x[:300], xor[:300], x[300:], xor[300:], "2-layer") >= 85


class FakeTranscriber:
    """Utterance vectors that carry the gender label in dimension 0 (strongly) or not at all (noise only)."""

    def __init__(self, labels: dict[str, str], informative: bool, d: int = 6):
        self.labels, self.informative, self.calls = labels, informative, 0
        self.model = SimpleNamespace(config=SimpleNamespace(prosody_layer=2, d_model=d))
        self.rng = np.random.default_rng(1)

    def transcribe(self, paths, max_seconds=None):
        self.calls += 1
        out = []
        for path in paths:
            v = self.rng.standard_normal(self.model.config.d_model).astype(np.float32)
            if self.informative:
                v[0] += 4.0 if self.labels[path.rsplit("/", 1)[-1]] == "female" else -4.0
            out.append(SimpleNamespace(utterance=v))
        return out


def write_bench(root, n_train=40, n_test=20):
    labels = {}
    for split, n in (("train", n_train), ("test", n_test)):
        rows = []
        for i in range(n):
            gender = "female" if i % 2 else "male"
            name = f"{split}-{i}.flac"
            labels[name] = gender
            rows.append({"id": f"{split}-gender-{i}", "audio": f"audio/{name}", "task": "gender", "reference": gender})
        rows.append({"id": f"{split}-q", "audio": "audio/q.flac", "task": "semantic", "reference": "A"})
        (root / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return labels


def test_select_records_is_per_task_and_evenly_spaced(tmp_path):
    write_bench(tmp_path)
    chosen = select_records(tmp_path, "train", ["gender"], 10)
    assert [r["id"] for r in chosen] == [f"train-gender-{i}" for i in range(0, 40, 4)]
    assert len(select_records(tmp_path, "train", ["gender"], None)) == 40


def test_run_probes_table_json_markdown_and_vector_cache(tmp_path):
    (tmp_path / "bench").mkdir()
    labels = write_bench(tmp_path / "bench")
    informative, noise = FakeTranscriber(labels, True), FakeTranscriber(labels, False)
    out = tmp_path / "out"
    result = run_probes(tmp_path / "bench", ["whisperpro-dir", "whisper-tiny.en"], out, tasks=["gender"],
                        train_limit=None, progress=False, transcribers=[informative, noise])
    pro, vanilla = result["models"]["whisperpro-dir"]["probes"], result["models"]["whisper-tiny.en"]["probes"]
    assert pro["1-layer"]["gender"] == 100 and pro["2-layer"]["gender"] == 100
    assert vanilla["1-layer"]["average"] < 90  # noise: near chance
    assert result["chance"] == {"gender": 50.0} and result["n_train"] == {"gender": 40}
    assert json.loads((out / "probe.json").read_text())["models"].keys() == result["models"].keys()
    table = (out / "probe.md").read_text()
    assert "| whisperpro-dir (layer 2) | 2-layer | 100.0 | **100.0** |" in table
    assert table == markdown_table(result)

    # a rerun reads the cached vectors instead of transcribing again
    calls = informative.calls
    again = run_probes(tmp_path / "bench", ["whisperpro-dir", "whisper-tiny.en"], out, tasks=["gender"],
                       train_limit=None, progress=False, transcribers=[informative, noise])
    assert informative.calls == calls and again["models"] == result["models"]


def test_cli_reports_a_missing_bench_in_one_line(tmp_path, capsys):
    assert main(["--bench", str(tmp_path / "nope"), "--model", "whisper-tiny.en", "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
