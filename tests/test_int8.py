"""`textpro serve --int8` and `textpro chat --int8`: dynamic int8 quantization of WhisperPro's decoder and of the
LLM on CPU (textpro/int8.py).
Accuracy against fp32 is measured by benchmarks/int8_cpu.py (BENCHMARKS.md); here: what is quantized, what is
not, and that the quantized model still hears and answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.serve_support import spoken, untrained_served

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def int8_pro():
    from textpro.int8 import quantize_int8
    from textpro.pipeline import TextPro

    pro = TextPro.untrained()  # its own copy: the shared served model stays fp32 for the other tests
    counts = quantize_int8(pro)
    return pro, counts


def test_what_is_quantized(int8_pro):
    from textpro.int8 import is_int8

    pro, counts = int8_pro
    whisper, slm = pro.transcriber.model, pro.slm
    assert counts["whisperpro_decoder"] > 0 and counts["llm"] > 0
    assert is_int8(whisper.model.decoder) and is_int8(slm.llm) and is_int8(whisper.proj_out)
    assert not is_int8(whisper.model.encoder)  # the encoder stays float32
    assert not is_int8(slm.projector)  # the prosody projector too
    assert not any(isinstance(m, torch.nn.Linear) for m in slm.llm.modules())  # every LLM Linear, lm_head included
    # the embedding lookups stay float32 (the lm_head's int8 copy does not touch the input embeddings)
    assert slm.llm.get_input_embeddings().weight.dtype == torch.float32
    assert whisper.model.decoder.embed_tokens.weight.dtype == torch.float32


def test_int8_hears_and_answers_like_fp32(int8_pro):
    from textpro.audio import load_audio

    pro, _ = int8_pro
    fp32 = untrained_served().pipeline
    samples = load_audio(spoken())
    heard8, heard32 = pro.transcriber.transcribe(samples), fp32.transcriber.transcribe(samples)
    assert heard8.text == heard32.text
    a, b = heard8.utterance.astype(np.float64), heard32.utterance.astype(np.float64)
    assert a @ b / (np.linalg.norm(a) * np.linalg.norm(b)) > 0.98
    answer = pro.slm.generate([(heard8, None)], max_new_tokens=8)[0]
    assert answer.strip()


def test_int8_setting_and_parts():
    from textpro.errors import ConfigError
    from textpro.int8 import quantize_int8
    from textpro.serve import ServeSettings

    assert ServeSettings.from_env({"TEXTPRO_INT8": "1"}).int8 == "all"
    assert ServeSettings.from_env({"TEXTPRO_INT8": "whisperpro"}).int8 == "whisperpro"
    assert ServeSettings.from_env({"TEXTPRO_INT8": "0"}).int8 == "none"
    assert ServeSettings().int8 is None  # nothing asked: the CPU default (resolve_int8)
    with pytest.raises(ConfigError):
        ServeSettings(int8="whisperpro,everything")
    with pytest.raises(ConfigError):
        quantize_int8(untrained_served().pipeline, ("everything",))


def test_the_cpu_default_is_whisperpro_s_decoder_only():
    from types import SimpleNamespace

    from textpro.int8 import CPU_DEFAULT_PARTS, int8_parts, resolve_int8

    pipeline = untrained_served().pipeline
    assert resolve_int8(None, pipeline, embedded_default=True) == CPU_DEFAULT_PARTS == ("whisperpro",)
    assert resolve_int8(None, pipeline, embedded_default=False) == ()  # not the model the criterion was measured on
    assert resolve_int8("none", pipeline, embedded_default=True) == int8_parts("none") == ()
    assert resolve_int8("llm", pipeline, embedded_default=False) == ("llm",)
    gpu = SimpleNamespace(type="cuda")
    on_gpu = SimpleNamespace(slm=SimpleNamespace(device=gpu), transcriber=SimpleNamespace(
        model=SimpleNamespace(device=gpu)))
    assert resolve_int8(None, on_gpu, embedded_default=True) == ()  # int8 is for CPU: a GPU model stays as loaded


@pytest.mark.parametrize("flags, parts", [([], ("whisperpro",)), (["--int8"], ("whisperpro", "llm", "lm_head"))],
                         ids=["cpu-default", "all"])
def test_chat_quantizes_before_it_answers(flags, parts, one_thread, monkeypatch, capsys):
    import json

    import textpro.int8
    from textpro.cli import main
    from textpro.int8 import is_int8
    from textpro.pipeline import DEFAULT_MODEL_DIR

    quantized = []
    real = textpro.int8.quantize_int8
    monkeypatch.setattr(textpro.int8, "quantize_int8", lambda pipeline, parts: quantized.append((pipeline, parts))
                        or real(pipeline, parts))
    clip = json.loads((DEFAULT_MODEL_DIR / "examples" / "examples.jsonl").open().readline())["audio"]
    assert main(["chat", str(DEFAULT_MODEL_DIR / "examples" / clip), *flags, "--max-new-tokens", "8"]) == 0
    transcript, answer = capsys.readouterr().out.split("answer:", 1)
    assert transcript.strip().removeprefix("transcript:").strip() and answer.strip()
    [(pipeline, quantized_parts)] = quantized
    assert quantized_parts == parts
    assert is_int8(pipeline.transcriber.model.model.decoder)
    assert is_int8(pipeline.slm.llm) == ("llm" in parts)  # without the flag the LLM stays float32


def test_chat_int8_with_an_unknown_part_fails_in_one_line_before_loading(tmp_path, monkeypatch, capsys):
    import soundfile as sf

    import textpro.pipeline
    from textpro.cli import main

    monkeypatch.setattr(textpro.pipeline.TextPro, "from_pretrained", lambda *a, **k: pytest.fail("model loaded"))
    sf.write(tmp_path / "a.wav", (0.1 * np.sin(np.arange(8000) / 5)).astype(np.float32), 16000)
    assert main(["chat", str(tmp_path / "a.wav"), "--int8", "whisperpro,everything"]) == 2
    err = capsys.readouterr().err
    assert "int8 parts 'whisperpro,everything'" in err and err.count("\n") == 1


def test_int8_refuses_a_model_off_the_cpu():
    from types import SimpleNamespace

    from textpro.errors import ConfigError
    from textpro.int8 import quantize_int8

    on = lambda device: SimpleNamespace(device=torch.device(device))  # noqa: E731
    pipeline = SimpleNamespace(slm=on("meta"), transcriber=SimpleNamespace(model=on("cpu")))
    with pytest.raises(ConfigError, match="CPU only"):
        quantize_int8(pipeline)
