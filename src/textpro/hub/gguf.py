"""GGUF causal LM -> plain HF directory (fp32 safetensors, config, tokenizer with its chat template)."""

from __future__ import annotations

from pathlib import Path

from textpro.errors import ModelError


def convert_gguf_causal_lm(gguf_file: Path, out_dir: Path) -> None:
    """transformers dequantizes GGUF on load; we then rebuild the model without its quantization config so that
    `save_pretrained` writes ordinary fp32 safetensors that load anywhere without `gguf`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not gguf_file.is_file():
        raise ModelError(f"{gguf_file}: GGUF file not found")
    folder, name = str(gguf_file.parent), gguf_file.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = type(quantized)(config)
    missing, unexpected = model.load_state_dict(quantized.state_dict(), strict=False)
    tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
    if set(missing) - tied or unexpected:
        raise ModelError(f"{gguf_file}: weights do not map (missing {missing[:4]}, unexpected {unexpected[:4]})")
    model.tie_weights()
    model.generation_config = quantized.generation_config
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
