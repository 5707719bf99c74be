"""`textpro serve --int8`: dynamic int8 quantization of WhisperPro's decoder and of the LLM on CPU.
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
    from textpro.pipeline import TextPro
    from textpro.serve.int8 import quantize_int8

    pro = TextPro.untrained()  # its own copy: the shared served model stays fp32 for the other tests
    counts = quantize_int8(pro)
    return pro, counts


def test_what_is_quantized(int8_pro):
    from textpro.serve.int8 import is_int8

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
    from textpro.serve import ServeSettings
    from textpro.serve.int8 import quantize_int8

    assert ServeSettings.from_env({"TEXTPRO_INT8": "1"}).int8 == "all"
    assert ServeSettings.from_env({"TEXTPRO_INT8": "whisperpro"}).int8 == "whisperpro"
    assert ServeSettings.from_env({"TEXTPRO_INT8": "0"}).int8 is None
    assert ServeSettings().int8 is None  # opt-in until the full measurement says otherwise
    with pytest.raises(ConfigError):
        ServeSettings(int8="whisperpro,everything")
    with pytest.raises(ConfigError):
        quantize_int8(untrained_served().pipeline, ("everything",))
