"""Model soups (Wortsman et al., 2022): one TextPro-SLM whose trained weights are the average of several checkpoints
that fine-tuned the same start with different seeds. Averaging cancels each seed's own drift: on the mini world two
seeds averaged beat both on the open requests and kept the hearing one of them lost (results/robust-hearing.md,
session 26). The result is an ordinary checkpoint: one model, one forward path.

What is averaged: the checkpoint's own top-level weight files (the projector, and the LoRA adapter or the full LLM),
tensor by tensor, in float32, then cast back to each tensor's dtype. A LoRA adapter is averaged one of two ways:

    factors  A and B averaged separately: the soup stays a rank-r adapter. Right for seeds that continued one adapter
             (their factors stay close); wrong for fresh adapters, whose A factors are independent random draws.
    concat   the exact average of the updates, Σ w_i·B_i·A_i = [w_1·B_1 … w_n·B_n]·[A_1; …; A_n]: a rank-n·r adapter
             (peft's `add_weighted_adapter(combination_type="cat")`, done here on the files, no base model loaded).
             Every fresh adapter starts at B = 0, the base LLM itself, so seeds drawn apart share the start a soup
             needs in weight space even where their factors do not.
    auto     factors where every ingredient's A factors point the way the first one's do, concat otherwise.

Everything else (the config, the teacher and WhisperPro it names, the examples) must be the same in every
ingredient, or the soup is refused: seeds of one recipe qualify, unrelated models do not.

    textpro soup runs/a/default runs/b/default --out runs/soup       # uniform weights
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from textpro.errors import ConfigError, ModelError
from textpro.slm.config import CONFIG_NAME

SOUP_NAME = "soup.json"  # provenance written beside the averaged weights: ingredients, weights, file digests
UNORDERED_KEYS = {"target_modules"}  # JSON lists whose order means nothing (peft stores target_modules as a set)
# Below this cosine between two ingredients' LoRA A factors (all of a file's, concatenated), the adapters did not
# continue one adapter: a fresh adapter draws its A factors from its own seed, and the average of two such factor sets
# is not an average of the two models. (Session 35: 0.001 between two seeds of the recipe's hearing phase, each a fresh
# adapter; 0.99 between a run and its continuation; their factor-wise soup heard 12 points under the two seeds' mean.)
SHARED_START_COSINE = 0.5
LORA_METHODS = ("auto", "factors", "concat")
ADAPTER_CONFIG = "adapter_config.json"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _canonical_json(path: Path):
    def canon(value, key=None):
        if isinstance(value, dict):
            return {k: canon(v, k) for k, v in value.items()}
        if isinstance(value, list):
            items = [canon(v) for v in value]
            return sorted(items, key=json.dumps) if key in UNORDERED_KEYS else items
        return value

    return canon(json.loads(path.read_text()))


def _same_file(a: Path, b: Path) -> bool:
    if a.suffix == ".json":
        try:
            return _canonical_json(a) == _canonical_json(b)
        except json.JSONDecodeError:
            pass
    return a.read_bytes() == b.read_bytes()


def _averaged_files(directory: Path) -> list[str]:
    """The checkpoint's own weights: top-level safetensors files (not the teacher's or WhisperPro's in subfolders)."""
    return sorted(p.name for p in directory.glob("*.safetensors"))


def _other_files(directory: Path, weight_files: list[str]) -> list[str]:
    """Every file but the averaged weights and an earlier soup's provenance, as paths relative to `directory`."""
    skip = set(weight_files) | {SOUP_NAME}
    files = (str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())
    return sorted(rel for rel in files if rel not in skip)


def _metadata(path: Path) -> dict[str, str]:
    with safe_open(path, "pt") as f:
        return f.metadata() or {}


def _check_ingredients(directories: list[Path]) -> dict[str, dict[str, str]]:
    """The weight files to average, each with its safetensors metadata; ModelError unless every ingredient is a seed
    of the same model."""
    first = directories[0]
    weight_files = _averaged_files(first)
    if not weight_files:
        raise ModelError(f"{first}: no top-level .safetensors weights to average")
    shared = _other_files(first, weight_files)
    metadata = {name: _metadata(first / name) for name in weight_files}  # e.g. an adapter gate's layer
    for other in directories[1:]:
        if (their_weights := _averaged_files(other)) != weight_files:
            raise ModelError(f"{other}: weight files {their_weights} differ from {first}'s {weight_files}")
        theirs = _other_files(other, weight_files)
        if theirs != shared:
            extra = sorted(set(theirs) ^ set(shared))[:3]
            raise ModelError(f"{other}: not a seed of the same model as {first} (files differ: {', '.join(extra)})")
        for name in weight_files:  # what the tensors mean must be the same
            if (theirs_meta := _metadata(other / name)) != metadata[name]:
                raise ModelError(f"{other / name}: metadata {theirs_meta} differs from {first}'s {metadata[name]}")
        for name in shared:
            if not _same_file(first / name, other / name):
                raise ModelError(f"{other / name} differs from {first / name}: a soup averages seeds of one "
                                 "model, whose config, teacher and WhisperPro are the same")
    return metadata


def _check_same_tensors(state_dicts: list[dict[str, torch.Tensor]]) -> None:
    """ModelError unless every state dict has the same tensor names and shapes as the first."""
    names = set(state_dicts[0])
    for i, sd in enumerate(state_dicts[1:], 1):
        if set(sd) != names:
            raise ModelError(f"ingredient {i} has other tensors than ingredient 0: {sorted(set(sd) ^ names)[:4]}")
    for name in sorted(names):
        if any(sd[name].shape != state_dicts[0][name].shape for sd in state_dicts):
            raise ModelError(f"{name}: shapes {[tuple(sd[name].shape) for sd in state_dicts]} differ")


def average_state_dicts(state_dicts: list[dict[str, torch.Tensor]], weights: list[float]) -> dict[str, torch.Tensor]:
    """sum_i weights[i] * state_dicts[i], per tensor, in float32; integer tensors must be equal in every input."""
    _check_same_tensors(state_dicts)
    out = {}
    for name in sorted(state_dicts[0]):
        tensors = [sd[name] for sd in state_dicts]
        first = tensors[0]
        if first.is_floating_point():
            mixed = weights[0] * first.float()
            for w, t in zip(weights[1:], tensors[1:], strict=True):
                mixed = mixed + w * t.float()
            out[name] = mixed.to(first.dtype).contiguous()
        elif all(torch.equal(t, first) for t in tensors):
            out[name] = first
        else:
            raise ModelError(f"{name}: a non-float tensor that differs between ingredients cannot be averaged")
    return out


def _a_factor_cosines(state_dicts: list[dict[str, torch.Tensor]]) -> list[float]:
    """Cosine of each later ingredient's LoRA A factors (all of them, concatenated) with the first one's; [] without
    LoRA factors."""
    keys = sorted(k for k in state_dicts[0] if "lora_A" in k)
    if not keys:
        return []
    flat = [torch.cat([sd[k].float().flatten() for k in keys]) for sd in state_dicts]
    return [float(torch.nn.functional.cosine_similarity(flat[0], f, dim=0)) for f in flat[1:]]


def _check_shared_start(directories: list[Path], cosines: list[float], name: str) -> None:
    """ModelError unless every ingredient's LoRA A factors in weight file `name` point the way the first one's do."""
    for directory, cosine in zip(directories[1:], cosines, strict=True):
        if cosine < SHARED_START_COSINE:
            raise ModelError(f"{directory / name}: its LoRA A factors are not a continuation of {directories[0]}'s "
                             f"(cosine {cosine:.2f} < {SHARED_START_COSINE}): adapters initialised apart cannot be "
                             "averaged factor by factor; use --lora concat (the exact average of their updates)")


def concat_adapters(state_dicts: list[dict[str, torch.Tensor]], weights: list[float]) -> dict[str, torch.Tensor]:
    """The exact weighted average of LoRA updates as one adapter of rank Σ r_i: per module, A (r, in) factors stacked
    to (n·r, in), B (out, r) factors scaled by their weights and joined to (out, n·r), so B·A = Σ w_i·B_i·A_i. Other
    tensors (none in a plain peft LoRA file) are averaged. Plain LoRA only: DoRA magnitudes, embedding factors and
    the like are refused."""
    others = [name for name in state_dicts[0] if ".lora_A." not in name and ".lora_B." not in name]
    if unsupported := [name for name in others if "lora_" in name]:
        raise ModelError(f"{unsupported[0]}: only plain LoRA A/B factors can be concatenated")
    out = average_state_dicts([{name: sd[name] for name in others} for sd in state_dicts], weights)
    for name in state_dicts[0]:
        if ".lora_A." in name:
            out[name] = torch.cat([sd[name] for sd in state_dicts], dim=0).contiguous()
        elif ".lora_B." in name:
            out[name] = torch.cat([(w * sd[name].float()).to(sd[name].dtype) for w, sd in
                                   zip(weights, state_dicts, strict=True)], dim=1).contiguous()
    return out


def _concat_adapter_config(config: dict, n: int) -> dict:
    """The adapter config of `n` rank-r adapters concatenated: rank n·r, alpha raised so that the update's scaling
    (alpha/r, or alpha/√r with rsLoRA) stays what each ingredient was trained with."""
    if config.get("rank_pattern") or config.get("alpha_pattern") or config.get("use_dora"):
        raise ModelError("concat soups support a uniform-rank LoRA adapter (no rank_pattern, alpha_pattern or DoRA)")
    alpha = config.get("lora_alpha", 8)
    return {**config, "r": config["r"] * n, "lora_alpha": alpha * (n ** 0.5 if config.get("use_rslora") else n)}


def make_soup(directories: list[str | os.PathLike], out: str | os.PathLike,
              weights: list[float] | None = None, lora: str = "auto") -> Path:
    """Write the weighted average of `directories` (TextPro-SLM checkpoints, seeds of one model) to `out`; `lora`:
    how a LoRA adapter is averaged (LORA_METHODS, module docstring)."""
    directories = [Path(d) for d in directories]
    out = Path(out)
    if len(directories) < 2:
        raise ConfigError("a soup needs at least two checkpoints")
    for d in directories:
        if not (d / CONFIG_NAME).is_file():
            raise ModelError(f"{d}: not a TextPro-SLM checkpoint (no {CONFIG_NAME})")
    if weights is None:
        weights = [1.0 / len(directories)] * len(directories)
    if len(weights) != len(directories):
        raise ConfigError(f"{len(weights)} weights for {len(directories)} checkpoints")
    if any(w < 0 for w in weights) or abs(sum(weights) - 1.0) > 1e-6:
        raise ConfigError(f"weights must be non-negative and sum to 1, got {weights}")
    if out.exists():
        raise ConfigError(f"{out} exists: a soup is written to a new directory")
    if lora not in LORA_METHODS:
        raise ConfigError(f"lora must be one of {', '.join(LORA_METHODS)}, got {lora!r}")
    metadata = _check_ingredients(directories)  # weight file -> its safetensors metadata, alike in every ingredient

    averaged, methods = {}, {}  # all of it before anything is written: a refusal leaves no directory
    for name in metadata:
        state_dicts = [load_file(d / name) for d in directories]
        _check_same_tensors(state_dicts)
        cosines = _a_factor_cosines(state_dicts)
        apart = any(c < SHARED_START_COSINE for c in cosines)
        if cosines and (lora == "concat" or (lora == "auto" and apart)):
            averaged[name], methods[name] = concat_adapters(state_dicts, weights), "concat"
        else:
            if lora == "factors":
                _check_shared_start(directories, cosines, name)
            averaged[name], methods[name] = average_state_dicts(state_dicts, weights), "factors" if cosines else "mean"
    adapter_config = None
    if "concat" in methods.values():
        if not (directories[0] / ADAPTER_CONFIG).is_file():
            raise ModelError(f"{directories[0]}: LoRA factors without an {ADAPTER_CONFIG} to give the soup's rank")
        adapter_config = _concat_adapter_config(json.loads((directories[0] / ADAPTER_CONFIG).read_text()),
                                                len(directories))
    shutil.copytree(directories[0], out, ignore=shutil.ignore_patterns(SOUP_NAME))
    for name, state_dict in averaged.items():
        save_file(state_dict, out / name, metadata=metadata[name] or None)
    if adapter_config is not None:
        (out / ADAPTER_CONFIG).write_text(json.dumps(adapter_config, indent=2) + "\n")
    provenance = {"method": "weighted average of the top-level weight files, per tensor, in float32; LoRA adapters "
                            "'factors' (A and B averaged separately) or 'concat' (the exact average of the updates "
                            "B·A, a rank-n·r adapter)",
                  "lora": methods,
                  "ingredients": [{"path": str(d), "weight": w, "sha256": {n: _digest(d / n) for n in metadata}}
                                  for d, w in zip(directories, weights, strict=True)]}
    (out / SOUP_NAME).write_text(json.dumps(provenance, indent=2) + "\n")
    return out
