"""The embedded default (src/textpro/assets/default): small, adapters only, and it answers its own example clips."""

import json

import jiwer
import pytest
from safetensors import safe_open

from textpro.pipeline import DEFAULT_MODEL_DIR
from textpro.slm.gate import GATE_NAME


def test_the_default_is_small_and_names_only_pypi_bases():
    files = [p for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 30 * 2**20  # the budget for committed artifacts
    for path in DEFAULT_MODEL_DIR.rglob("*.safetensors"):
        with safe_open(path, "pt") as f:
            dtypes = {str(f.get_slice(k).get_dtype()) for k in f.keys()}
        # the adapter gate's router (a few KB) ships as it was measured, float32; every other tensor float16
        assert dtypes == ({"F32"} if path.name == GATE_NAME else {"F16"}), path
    assert (DEFAULT_MODEL_DIR / GATE_NAME).is_file()  # the default's adapter is gated per turn (textpro.slm.gate)
    config = json.loads((DEFAULT_MODEL_DIR / "textpro_config.json").read_text())
    assert (config["base_llm"], config["whisperpro"]) == ("teacher", "whisperpro")  # relative: the dir travels whole
    bases = {name: json.loads((DEFAULT_MODEL_DIR / name / "adapter_config.json").read_text())["base_model_name_or_path"]
             for name in ("teacher", "whisperpro")}
    assert bases == {"teacher": "smollm2-135m-instruct", "whisperpro": "whisper-tiny.en"}
    examples = [json.loads(line) for line in (DEFAULT_MODEL_DIR / "examples" / "examples.jsonl").open()]
    assert len({(e["gender"], e["accent"], e.get("style")) for e in examples}) >= 4  # different voices and styles
    assert all((DEFAULT_MODEL_DIR / "examples" / e["audio"]).is_file() for e in examples)


@pytest.mark.slow
def test_demo_hears_and_answers_the_shipped_clips(one_thread, capsys):
    from textpro.cli import main

    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    examples = [json.loads(line) for line in (DEFAULT_MODEL_DIR / "examples" / "examples.jsonl").open()]
    assert out.count("━━ clip") == len(examples)
    heard = [line.removeprefix("heard: ") for line in out.splitlines() if line.startswith("heard: ")]
    wer = jiwer.wer([e["text"].lower() for e in examples], [h.lower() for h in heard])
    assert wer < 0.25, wer
    marks = [line for line in out.splitlines() if line.rstrip().endswith(("✓", "✗"))]
    assert len(marks) >= 2 * len(examples)  # every clip: its speaker's gender and accent, judged against the truth
    assert "✓" in out


@pytest.mark.slow
def test_chat_with_the_default_answers_a_shipped_clip(one_thread, capsys):
    from textpro.cli import main
    from textpro.data.paralinguistic import PROMPTS

    examples = [json.loads(line) for line in (DEFAULT_MODEL_DIR / "examples" / "examples.jsonl").open()]
    for task in ("pitch", "rate"):  # the shipped high-pitched and fast clips, asked as the demo asks
        clip = next(e for e in examples if e["task"] == task)
        assert main(["chat", str(DEFAULT_MODEL_DIR / "examples" / clip["audio"]), "--prompt", PROMPTS[task][0]]) == 0
        transcript, answer = capsys.readouterr().out.split("answer:", 1)
        assert answer.strip().lower().strip(".") == clip["reference"], (task, answer)
