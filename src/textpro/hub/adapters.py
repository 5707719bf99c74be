"""LoRA adapters as models: a directory holding a peft adapter over a base model is resolved like any model.

    resolve_model("assets/default/teacher")   # adapter_config.json + adapter_model.safetensors over smollm2
        -> ~/.cache/textpro/models/adapted-teacher-<hash>   (base + adapter merged once, then reused)

This is how the embedded default stays small (only adapters are committed) while every loader in textpro
(Transcriber, TextLLMResponder, distill, TextPro-SLM's base LLM) keeps taking a plain HF directory. Files other
than the adapter's own in the adapter directory (e.g. a WhisperPro `config.json` with its prosody layer) are
copied over the merged model's, so an adapter can also carry its model's settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from textpro.errors import ModelError

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
_MARKER = "textpro-merged-adapter.json"


# How the base of an adapter is loaded, by the base's `model_type`: (adapter_dir, base_dir) -> nn.Module (float32).
# A model package above this one registers its own class (textpro.whisperpro.model: WhisperPro, for "whisper" and
# "whisperpro"), so that hub imports no model code; any other base loads as a transformers causal LM.
BASE_LOADERS: dict[str, Callable[[Path, Path], torch.nn.Module]] = {}


def register_base_loader(model_types: tuple[str, ...], loader: Callable[[Path, Path], torch.nn.Module]) -> None:
    for model_type in model_types:
        BASE_LOADERS[model_type] = loader


def is_adapter_dir(path: Path) -> bool:
    return (path / ADAPTER_CONFIG).is_file()


def save_adapter(peft_model, directory: str | os.PathLike, base_model: str, extra_config=None) -> None:
    """Save only the adapter (safetensors), naming `base_model` (a textpro.hub name such as "whisper-tiny.en", or
    a path) as its base, so the directory is portable. extra_config: an HF config saved beside it (its settings
    override the base's when merged)."""
    directory = Path(directory)
    for config in peft_model.peft_config.values():
        config.base_model_name_or_path = str(base_model)
    # save_embedding_layers=False: peft would otherwise look the base up on a hub to see whether the vocabulary grew
    peft_model.save_pretrained(directory, safe_serialization=True, save_embedding_layers=False)
    (directory / "README.md").unlink(missing_ok=True)  # peft's model-card template, empty for us
    if extra_config is not None:
        extra_config.save_pretrained(directory)


def _fingerprint(directory: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in directory.iterdir() if p.is_file()):
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def merged_model_dir(adapter_dir: Path, cache_root: Path, resolve_model) -> Path:
    """The merged (base + adapter) HF directory for `adapter_dir`, built into the cache on first use."""
    try:
        settings = json.loads((adapter_dir / ADAPTER_CONFIG).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{adapter_dir}: unreadable {ADAPTER_CONFIG} ({exc})") from None
    if not (adapter_dir / ADAPTER_WEIGHTS).is_file():
        raise ModelError(f"{adapter_dir}: has {ADAPTER_CONFIG} but no {ADAPTER_WEIGHTS} (only safetensors adapters "
                         "are loaded)")
    base_name = settings.get("base_model_name_or_path")
    if not base_name:
        raise ModelError(f"{adapter_dir}: {ADAPTER_CONFIG} names no base_model_name_or_path")
    if not Path(base_name).is_absolute() and (adapter_dir / base_name).is_dir():
        base_name = str(adapter_dir / base_name)  # a base stored beside the adapter
    base_dir = resolve_model(base_name)

    target = cache_root / "models" / f"adapted-{adapter_dir.name}-{_fingerprint(adapter_dir)}"
    if (target / _MARKER).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _merge(adapter_dir, base_dir, work)
        (work / _MARKER).write_text(json.dumps({"adapter": str(adapter_dir.resolve()), "base": str(base_name)},
                                               indent=2))
        try:
            os.rename(work, target)
        except OSError:  # a concurrent process finished first
            if not (target / _MARKER).is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.rename(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _merge(adapter_dir: Path, base_dir: Path, out: Path) -> None:
    from peft import PeftModel

    model_type = json.loads((base_dir / "config.json").read_text()).get("model_type")
    if model_type in BASE_LOADERS:
        base = BASE_LOADERS[model_type](adapter_dir, base_dir)
    elif model_type in ("whisper", "whisperpro"):
        raise ModelError(f"{adapter_dir}: a Whisper adapter merges into WhisperPro; load it through textpro.whisperpro "
                         "(Transcriber.from_pretrained), which registers that model here")
    else:
        from transformers import AutoModelForCausalLM

        base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    try:
        merged = PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
    except (ValueError, KeyError, RuntimeError) as exc:
        raise ModelError(f"{adapter_dir}: the adapter does not fit its base {base_dir}: "
                         f"{str(exc).strip().splitlines()[0]}") from None
    # The base's own files first (tokenizer, processor), then the merged weights, then the adapter's extras.
    for file in base_dir.iterdir():
        if file.is_file() and not file.name.endswith((".safetensors", ".bin")) and not file.name.startswith("textpro-"):
            shutil.copy2(file, out / file.name)
    merged.save_pretrained(out, safe_serialization=True)
    for file in adapter_dir.iterdir():
        if file.is_file() and file.name not in (ADAPTER_CONFIG, ADAPTER_WEIGHTS) and not file.name.endswith(
                (".safetensors", ".bin", ".md")):
            shutil.copy2(file, out / file.name)
