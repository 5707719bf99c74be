"""GGUF causal LM -> plain HF directory (fp32 safetensors, config, tokenizer with its chat template)."""

from __future__ import annotations

from pathlib import Path

from textpro.errors import ModelError


def gguf_tensor_names(gguf_file: Path) -> list[str]:
    """The names of the tensors a GGUF file holds (read from its header; the data is memory-mapped, not loaded)."""
    from gguf import GGUFReader

    return [tensor.name for tensor in GGUFReader(str(gguf_file)).tensors]


def convert_gguf_causal_lm(gguf_file: Path, out_dir: Path) -> None:
    """transformers dequantizes GGUF on load; we then rebuild the model without its quantization config so that
    `save_pretrained` writes ordinary fp32 safetensors that load anywhere without `gguf`.

    Every GGUF tensor must land in exactly one HF parameter and every HF parameter must come from the file (a tied
    lm_head is the one parameter that may share its tensor), else ModelError. The rebuilt model shares the
    dequantized tensors (built on the meta device, then assigned), so the peak is one fp32 copy of the model:
    ~2.5 GB for the 0.5B Qwen (3.7 GB peak RSS measured), ~7 GB for the 1.5B one."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not gguf_file.is_file():
        raise ModelError(f"{gguf_file}: GGUF file not found")
    folder, name = str(gguf_file.parent), gguf_file.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    quantized, info = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32,
                                                           output_loading_info=True)
    config = quantized.config
    tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
    if set(info.get("missing_keys") or ()) - tied:
        raise ModelError(f"{gguf_file}: parameters not in the file: {sorted(set(info['missing_keys']) - tied)[:4]}")
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    state = quantized.state_dict()
    distinct = {id(t.untyped_storage()) if t.device.type != "meta" else key for key, t in state.items()}
    n_gguf = len(gguf_tensor_names(gguf_file))
    if len(distinct) != n_gguf:
        raise ModelError(f"{gguf_file}: {n_gguf} GGUF tensors but {len(distinct)} distinct HF parameters: not every "
                         "tensor maps one-to-one")
    with torch.device("meta"):
        model = type(quantized)(config)
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    if set(missing) - tied or unexpected:
        raise ModelError(f"{gguf_file}: weights do not map (missing {missing[:4]}, unexpected {unexpected[:4]})")
    model.tie_weights()
    model.generation_config = quantized.generation_config
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
