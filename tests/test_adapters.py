"""LoRA adapter directories resolve like models: base + adapter merged once into the cache."""

import json

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

from textpro.errors import ModelError
from textpro.hub import resolve_model
from textpro.hub.adapters import save_adapter


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTPRO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def tiny_llama(directory):
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2))
    model.save_pretrained(directory)
    return model


def trained_adapter(model):
    """A LoRA adapter whose B matrices are not zero (an untrained one would merge to the base unchanged)."""
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    torch.manual_seed(1)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.5)
    return peft_model.eval()


def test_an_adapter_directory_resolves_to_the_merged_model(tmp_path, cache):
    base_dir, adapter_dir = tmp_path / "base", tmp_path / "adapter"
    peft_model = trained_adapter(tiny_llama(base_dir))
    save_adapter(peft_model, adapter_dir, str(base_dir))
    assert sorted(p.name for p in adapter_dir.iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    assert json.loads((adapter_dir / "adapter_config.json").read_text())["base_model_name_or_path"] == str(base_dir)

    merged_dir = resolve_model(adapter_dir)
    assert merged_dir.is_relative_to(cache)
    merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()
    base = AutoModelForCausalLM.from_pretrained(base_dir).eval()
    ids = torch.tensor([[1, 5, 9, 33, 2]])
    with torch.no_grad():
        expected = peft_model(input_ids=ids).logits
        assert torch.allclose(merged(input_ids=ids).logits, expected, atol=1e-5)
        assert not torch.allclose(base(input_ids=ids).logits, expected, atol=1e-3)  # the adapter changed something

    assert resolve_model(adapter_dir) == merged_dir  # merged once, then reused
    (adapter_dir / "adapter_model.safetensors").write_bytes(
        (adapter_dir / "adapter_model.safetensors").read_bytes())  # same content: same merged directory
    assert resolve_model(adapter_dir) == merged_dir


def test_a_whisper_adapter_carries_its_whisperpro_settings(tmp_path, cache):
    from textpro.whisperpro.model import WhisperPro, WhisperProConfig

    base_dir, adapter_dir = tmp_path / "whisper", tmp_path / "whisperpro"
    small = dict(vocab_size=64, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
                 decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_source_positions=100,
                 max_target_positions=32, num_mel_bins=80, pad_token_id=2, bos_token_id=1, eos_token_id=2,
                 decoder_start_token_id=1)
    WhisperPro(WhisperProConfig(**small)).save_pretrained(base_dir)
    model = WhisperPro(WhisperProConfig(**small, prosody_layer=1))
    model.load_state_dict(WhisperPro.from_pretrained(base_dir).state_dict())
    peft_model = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "fc1"]))
    save_adapter(peft_model, adapter_dir, str(base_dir), extra_config=model.config)

    merged = WhisperPro.from_pretrained(resolve_model(adapter_dir))
    assert merged.config.prosody_layer == 1  # the adapter's config, not the base's


def test_broken_adapter_directories_fail_with_one_line(tmp_path, cache):
    adapter_dir = tmp_path / "adapter"
    adapter_dir.mkdir()
    (adapter_dir / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "smollm2-135m-instruct"}))
    with pytest.raises(ModelError, match="no adapter_model.safetensors"):
        resolve_model(adapter_dir)
    (adapter_dir / "adapter_model.bin").write_bytes(b"pickle")  # never unpickled
    with pytest.raises(ModelError, match="only safetensors"):
        resolve_model(adapter_dir)
    (adapter_dir / "adapter_config.json").write_text("{not json")
    with pytest.raises(ModelError, match="unreadable adapter_config.json"):
        resolve_model(adapter_dir)
