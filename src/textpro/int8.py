"""int8 on CPU (`textpro serve --int8`, `textpro chat --int8`): dynamic quantization of the Linear layers of
WhisperPro's decoder and of the LLM in a loaded TextPro. Weights are stored as int8 (per tensor), activations are
quantized on the fly at each matmul; the encoder, the embeddings (the prompt's embedding lookup and the projector
included) and every norm stay float32.

It works on the loaded pipeline's modules and imports neither whisperpro nor slm, so it sits right below pipeline,
where serve and the chat command (both above) can use it.

A part is the CPU default only once `benchmarks/int8_cpu.py` shows, on >= 300 items, >= 97 % of answers identical
to fp32, WER within 0.5 points and prosody vectors with mean cosine >= 0.99 (BENCHMARKS.md, serving). WhisperPro's
decoder met it with the embedded default (300 test_unseen items: 98.3 % identical, WER +0.0, cosine 0.9975); the
LLM did not (31 % identical), so serve and chat quantize WhisperPro's decoder of the embedded default on CPU unless
told `--int8 none`. Only there: the criterion was measured on that model, and on another (base tiny.en hearing espeak
speech) int8 turned "capital of France" into "capital and friends".

It uses torch.ao.quantization.quantize_dynamic, which torch 2.13 still ships but marks deprecated in favour of
torchao (`Int8DynamicActivationInt8WeightConfig`); torchao is not a dependency here, so the torch.ao path is used
and its deprecation warnings are silenced.
"""

from __future__ import annotations

import logging
import warnings

import torch
from torch import nn

from textpro.errors import ConfigError

log = logging.getLogger("textpro")

INT8_PARTS = ("whisperpro", "llm", "lm_head")  # what `--int8` can quantize
CPU_DEFAULT_PARTS = ("whisperpro",)  # what serve and chat quantize on CPU when nothing is asked (criterion above)


def int8_parts(value: str) -> tuple[str, ...]:
    """"whisperpro,llm" -> ("whisperpro", "llm"); "all" -> every part; "none" -> (); ConfigError for an unknown
    part."""
    word = value.strip().lower()
    if word in ("all", "none"):
        return INT8_PARTS if word == "all" else ()
    parts = tuple(p.strip() for p in value.split(",") if p.strip())
    if not parts or set(parts) - set(INT8_PARTS):
        raise ConfigError(f"int8 parts {value!r}: use all, none, or some of {', '.join(INT8_PARTS)}")
    return parts


def _int8_linear(linear: nn.Linear) -> nn.Module:
    """One Linear as int8 weights (one scale per tensor, torch's default; per-channel scales measured no better on
    the mini model, BENCHMARKS.md), activations quantized per call."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notices, once per layer
        return torch.ao.quantization.quantize_dynamic(nn.Sequential(linear), {nn.Linear}, dtype=torch.qint8)[0]


LORA_FACTORS = ("lora_A", "lora_B")  # an unmerged LoRA adapter's factors (peft's names): they stay float32


def _quantize(module: nn.Module, keep: nn.Module | None = None) -> int:
    """Swaps every nn.Linear under `module` but `keep` and a LoRA adapter's factors for a dynamically quantized int8
    one, in place; how many."""
    count = 0
    for name, child in list(module.named_children()):
        if child is keep or name in LORA_FACTORS:
            continue
        if isinstance(child, nn.Linear):
            setattr(module, name, _int8_linear(child))
            count += 1
        else:
            count += _quantize(child, keep)
    return count


def resolve_int8(value: str | None, pipeline, embedded_default: bool) -> tuple[str, ...]:
    """The parts to quantize in a loaded TextPro: `value` as `int8_parts` reads it; None (nothing asked) means
    CPU_DEFAULT_PARTS for the embedded default (its own WhisperPro) on the CPU, the model the criterion was measured
    on, and nothing otherwise (measure another with benchmarks/int8_cpu.py, then ask for it)."""
    if value is not None:
        return int8_parts(value)
    return CPU_DEFAULT_PARTS if embedded_default and _on_cpu(pipeline) else ()


def _on_cpu(pipeline) -> bool:
    return pipeline.slm.device.type == "cpu" and pipeline.transcriber.model.device.type == "cpu"


def is_int8(module: nn.Module) -> bool:
    return any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in module.modules())


def quantize_int8(pipeline, parts=INT8_PARTS) -> dict:
    """Quantizes a loaded TextPro in place, for CPU inference only. parts: "whisperpro" (the decoder and its output
    projection), "llm" (every Linear of the LLM's layers), "lm_head" (the LLM's output projection). A LoRA adapter is
    merged into the LLM first (its weights then quantize with the rest); a gated one (textpro.slm.gate: each turn
    gets its own share of it) cannot be merged, so its base layers are quantized and its small factors stay float32
    under the gate. Returns the Linear layers quantized per part."""
    int8_parts(",".join(parts))  # ConfigError for an unknown part
    if not _on_cpu(pipeline):
        raise ConfigError("int8 dynamic quantization runs on CPU only: load the model on the CPU")
    whisper = pipeline.transcriber.model
    slm = pipeline.slm
    counts = {"whisperpro_decoder": 0, "llm": 0}
    if "whisperpro" in parts:
        counts["whisperpro_decoder"] = _quantize_whisperpro(whisper)
    if {"llm", "lm_head"} & set(parts):
        if slm.is_lora and slm.gate is None:
            slm.merge_lora()
        counts["llm"] = _quantize_llm(slm.llm, "llm" in parts, "lm_head" in parts)
    log.info("int8: quantized %d Linear layers of WhisperPro's decoder and %d of the LLM",
             counts["whisperpro_decoder"], counts["llm"])
    return counts


def _quantize_whisperpro(whisper) -> int:
    count = _quantize(whisper.model.decoder)
    # proj_out (the decoder's logits) is tied to the decoder's token embeddings: quantizing it keeps a separate
    # int8 copy and leaves the embedding lookup in float32
    if isinstance(getattr(whisper, "proj_out", None), nn.Linear):
        whisper.proj_out = _int8_linear(whisper.proj_out)
        count += 1
    return count


def _quantize_llm(llm: nn.Module, layers: bool, head: bool) -> int:
    """The LLM's Linear layers but its head (`layers`), and its lm_head (`head`; when tied to the input embeddings
    it becomes a separate int8 copy and the embedding lookup stays float32)."""
    output = llm.get_output_embeddings()
    count = _quantize(llm, keep=output) if layers else 0
    if head and isinstance(output, nn.Linear):
        quantized = _int8_linear(output)
        for module in list(llm.modules()):
            for name, child in list(module.named_children()):
                if child is output:
                    setattr(module, name, quantized)
        count += 1
    return count
