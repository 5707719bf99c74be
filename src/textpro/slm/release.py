"""The authors' released TextPro-SLM checkpoints read without their code (the WhisperPro side and the shared
safetensors readers: `textpro.whisperpro.release`)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch

from textpro.errors import ConfigError, ModelError
from textpro.whisperpro.release import (  # noqa: F401 (re-exported: the loaders of both sides)
    D_WHISPER_KEYS,
    GLOBAL_NAMES,
    INJECTION_KEYS,
    INTERLEAVE_NAMES,
    KNOWN_KEYS,
    LLM_SUBDIRS,
    MARKER_ID_KEYS,
    MARKER_KEYS,
    PROJECTOR_HINTS,
    RATIO_KEYS,
    RELEASE_MARKER,
    SYSTEM_KEYS,
    WHISPERPRO_KEYS,
    _flatten,
    _headers,
    _json,
    _pick,
    _read,
    _rebuild_meta_buffers,
    _refuse_pickles,
    _safetensors_files,
    is_release_whisperpro,
    load_release_whisperpro,
)

log = logging.getLogger(__name__)


# ==== TextPro-SLM ==================================================================================================
def is_release_slm(directory: Path) -> bool:
    """A directory with a textpro_config.json that textpro did not write (its projector file or its settings are not
    textpro's own)."""
    from safetensors import safe_open

    from textpro.slm.config import CONFIG_NAME, PROJECTOR_NAME, TextProSLMConfig

    path = directory / CONFIG_NAME
    if not path.is_file():
        return False
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return False  # TextProSLMConfig.load reports it
    if not isinstance(data, dict):
        return False  # TextProSLMConfig.load reports it
    if set(data) - {f.name for f in fields(TextProSLMConfig)}:
        return True  # settings textpro never writes
    projector = directory / PROJECTOR_NAME
    if not projector.is_file():
        # weights without textpro's projector file and settings that name no base LLM (textpro always writes one);
        # anything else is textpro's own, and its loader says what is missing
        return "base_llm" not in data and bool(_safetensors_files(directory))
    try:
        with safe_open(str(projector), framework="pt") as f:
            return "linear_in.weight" not in set(f.keys())
    except Exception:  # noqa: BLE001
        return False


@dataclass
class ReleaseSettings:
    injection: str = "global"
    interleave_ratio: int = 5
    marker: str = RELEASE_MARKER
    marker_id: int | None = None
    d_whisper: int | None = None
    system_prompt: str | None = None
    whisperpro: str | None = None
    unknown: list[str] = field(default_factory=list)


def _pick_int(flat: dict, keys, path: Path, what: str) -> int | None:
    """The first of `keys` in the flattened settings as an int (None when none is set); a value that is not a whole
    number is a ConfigError naming the key and `what` it should be ("a token id")."""
    key, value = _pick(flat, keys)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: {key} = {value!r} is not {what}") from None


def read_release_settings(path: Path) -> ReleaseSettings:
    data = _json(path) if path.is_file() else {}
    flat = _flatten(data)
    settings = ReleaseSettings()
    key, mode = _pick(flat, INJECTION_KEYS)
    if mode is not None:
        name = str(mode).strip().lower().replace(" ", "_")
        if name in GLOBAL_NAMES:
            settings.injection = "global"
        elif name in INTERLEAVE_NAMES or name.startswith("interleav"):
            settings.injection = "interleave"
        else:
            raise ConfigError(f"{path}: {key} = {mode!r} is not an injection mode textpro knows (global / prepend, "
                              "interleave / interleaving)")
    key, ratio = _pick(flat, RATIO_KEYS)
    if ratio is not None:
        text = str(ratio).strip()
        match = re.fullmatch(r"(\d+)\s*(?::\s*1)?", text)
        if not match or int(match.group(1)) < 1:
            raise ConfigError(f"{path}: {key} = {ratio!r} is not a ratio of text tokens per prosody marker (e.g. 5 "
                              "or \"5:1\")")
        settings.interleave_ratio = int(match.group(1))
    _, marker = _pick(flat, MARKER_KEYS)
    if marker is not None:
        settings.marker = str(marker)
    settings.marker_id = _pick_int(flat, MARKER_ID_KEYS, path, "a token id")
    settings.d_whisper = _pick_int(flat, D_WHISPER_KEYS, path, "a width")
    _, settings.system_prompt = _pick(flat, SYSTEM_KEYS)
    _, whisperpro = _pick(flat, WHISPERPRO_KEYS)
    settings.whisperpro = None if whisperpro is None else str(whisperpro)
    settings.unknown = sorted(k for k, v in flat.items() if "." not in k and k not in KNOWN_KEYS)
    return settings


def _find_llm(directory: Path) -> Path | None:
    """The folder whose config.json describes the causal LM (top level first), or None (wrapper tensors only)."""
    for folder in (directory, *(directory / name for name in LLM_SUBDIRS)):
        config = folder / "config.json"
        if config.is_file():
            data = _json(config)
            if data.get("model_type") not in (None, "whisper", "whisperpro") and "hidden_size" in data:
                return folder
    return None


def _llm_config(directory: Path, llm_dir: Path | None):
    """The LLM's transformers config, built from config.json without ever running code from the directory."""
    from transformers import CONFIG_MAPPING

    if llm_dir is None:
        raise ModelError(f"{directory}: no LLM config.json (looked at the top and in {', '.join(LLM_SUBDIRS)}/): "
                         "a released TextPro-SLM holds its Qwen2.5 config.json beside the weights")
    data = _json(llm_dir / "config.json")
    model_type = data.get("model_type")
    if model_type not in CONFIG_MAPPING:
        raise ModelError(f"{llm_dir / 'config.json'}: model_type {model_type!r} is not an architecture transformers "
                         "ships, and textpro never runs a checkpoint's own code (auto_map / trust_remote_code)")
    dropped = ("auto_map", "architectures", "model_type", "transformers_version")
    data = {k: v for k, v in data.items() if k not in dropped}
    return CONFIG_MAPPING[model_type](**data)


def _find_tokenizer(directory: Path, llm_dir: Path | None):
    from transformers import AutoTokenizer

    candidates = [d for d in (directory, llm_dir, directory / "tokenizer") if d is not None]
    for folder in candidates:
        if (folder / "tokenizer_config.json").is_file() or (folder / "tokenizer.json").is_file():
            try:
                return AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
            except (OSError, ValueError) as exc:
                raise ModelError(f"{folder}: unreadable tokenizer ({str(exc).splitlines()[0]})") from None
    raise ModelError(f"{directory}: no tokenizer (tokenizer.json / tokenizer_config.json at the top, beside the LLM "
                     "or in tokenizer/): keep the tokenizer supplied with the checkpoint")


def _llm_prefix(keys, expected: set[str]) -> str | None:
    """The prefix in front of the LLM's own parameter names (e.g. "llm." for llm.model.layers.0…), or None."""
    anchors = [k for k in expected if k.endswith("embed_tokens.weight")]
    for anchor in anchors:
        found = [key[: len(key) - len(anchor)] for key in keys if key.endswith(anchor)]
        if found:
            return min(found, key=len)
    for anchor in anchors:  # a bare decoder saved without the "model." level: "embed_tokens.weight", "layers.0…"
        inner = anchor.split(".", 1)[-1]
        found = [key[: len(key) - len(inner)] for key in keys if key.endswith(inner) and anchor.startswith("model.")
                 and f"{key[: len(key) - len(inner)]}norm.weight" in keys]
        if found:
            return min(found, key=len) + "\0"  # "\0": the "model." level is missing
    return None


def _map_llm_keys(headers: dict, expected: set[str]) -> dict[str, str]:
    """checkpoint key -> LLM parameter name, for every checkpoint tensor that belongs to the LLM."""
    prefix = _llm_prefix(headers, expected)
    if prefix is None:
        return {}
    bare = prefix.endswith("\0")
    prefix = prefix.rstrip("\0")
    mapping = {}
    for key in headers:
        if not key.startswith(prefix):
            continue
        name = key[len(prefix):]
        if bare and not name.startswith("lm_head."):
            name = "model." + name
        if name in expected:
            mapping[key] = name
    return mapping


@dataclass
class FoundProjector:
    keys: dict[str, str]  # checkpoint key -> "linear_in.weight" / "linear_in.bias" / "linear_out.weight" / ...
    d_in: int


def _find_projector(headers: dict, used: set[str], d_llm: int, d_whisper: int | None, directory: Path
                    ) -> FoundProjector:
    """Linear(d_in -> d_llm) then Linear(d_llm -> d_llm) among the tensors the LLM did not take."""
    rest = {k: shape for k, (_, shape) in headers.items() if k not in used}
    weights = {k[: -len(".weight")]: shape for k, shape in rest.items() if k.endswith(".weight") and len(shape) == 2}

    def choose(candidates):
        first = [m for m, s in candidates.items() if s[0] == d_llm and s[1] != d_llm
                 and (d_whisper is None or s[1] == d_whisper)]
        second = [m for m, s in candidates.items() if s == (d_llm, d_llm)]
        return first, second

    named = {m: s for m, s in weights.items() if any(h in m.lower() for h in PROJECTOR_HINTS)}
    first, second = choose(named)
    if len(first) != 1 or len(second) != 1:
        first, second = choose(weights)  # by shape alone
    if len(first) != 1 or len(second) != 1:
        shown = ", ".join(f"{m} {list(s)}" for m, s in sorted(weights.items())[:8]) or "none"
        want = f"({d_llm}, {d_whisper or 'd_in'}) and ({d_llm}, {d_llm})"
        problem = "none" if not first and not second else "more than one candidate"
        raise ModelError(f"{directory}: no prosody projector found ({problem}): expected two linear weights {want} "
                         f"outside the LLM (e.g. projector.safetensors or prosody_projector.* tensors); 2-D tensors "
                         f"left after the LLM: {shown}")
    keys = {f"{first[0]}.weight": "linear_in.weight", f"{second[0]}.weight": "linear_out.weight"}
    for module, ours in ((first[0], "linear_in"), (second[0], "linear_out")):
        if f"{module}.bias" in rest:
            if rest[f"{module}.bias"] != (d_llm,):
                raise ModelError(f"{directory}: {module}.bias has shape {list(rest[f'{module}.bias'])}, "
                                 f"expected [{d_llm}]")
            keys[f"{module}.bias"] = f"{ours}.bias"
    return FoundProjector(keys, weights[first[0]][1])


def release_slm_parts(directory, dtype: torch.dtype | None = None):
    """A released TextPro-SLM directory -> TextProSLM (eval mode). dtype None: the checkpoint's own (BF16 for the
    released models; fp32 if it names none)."""
    from transformers import AutoModelForCausalLM

    from textpro.slm.config import CONFIG_NAME, TextProSLMConfig
    from textpro.slm.projector import ProsodyProjector

    directory = Path(directory)
    settings = read_release_settings(directory / CONFIG_NAME)
    llm_dir = _find_llm(directory)
    config = _llm_config(directory, llm_dir)
    files = _refuse_pickles(directory, "TextPro-SLM checkpoint")
    headers = _headers(files)
    if dtype is None:
        stored = getattr(config, "dtype", None)
        dtype = getattr(torch, str(stored).replace("torch.", ""), torch.float32) if stored else torch.float32
    with torch.device("meta"):
        llm = AutoModelForCausalLM.from_config(config, dtype=dtype)
    expected = set(llm.state_dict())
    mapping = _map_llm_keys(headers, expected)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    missing = sorted(expected - set(mapping.values()) - tied)
    if missing:
        found = sorted({k.split(".")[0] for k in headers})
        raise ModelError(f"{directory}: the LLM weights are incomplete: {len(missing)} of {len(expected)} "
                         f"parameters missing (e.g. {', '.join(missing[:3])}); tensor groups found: "
                         f"{', '.join(found[:10])} in {len(files)} safetensors file(s)")
    projector_found = _find_projector(headers, set(mapping), config.hidden_size, settings.d_whisper, directory)
    state = {name: tensor.to(dtype) for key, tensor in _read(headers, mapping).items()
             for name in [mapping[key]]}
    llm.load_state_dict(state, strict=False, assign=True)
    del state
    if tied:
        llm.tie_weights()
    _rebuild_meta_buffers(llm)
    if llm_dir is not None and (llm_dir / "generation_config.json").is_file():  # Qwen2.5's end-of-turn ids
        from transformers import GenerationConfig

        llm.generation_config = GenerationConfig.from_pretrained(llm_dir)
    llm.eval()

    tokenizer = _find_tokenizer(directory, llm_dir)
    vocab = tokenizer.get_vocab()
    if settings.marker not in vocab:
        raise ConfigError(f"{directory}: the prosody marker {settings.marker!r} is not in the tokenizer")
    marker_id = vocab[settings.marker]
    if settings.marker_id is not None and settings.marker_id != marker_id:
        raise ConfigError(f"{directory}: the marker {settings.marker!r} is id {marker_id} in the tokenizer, the "
                          f"config says {settings.marker_id}")
    if marker_id >= llm.get_input_embeddings().num_embeddings:
        raise ModelError(f"{directory}: the marker's id {marker_id} is outside the LLM's "
                         f"{llm.get_input_embeddings().num_embeddings} embeddings")
    if settings.d_whisper is not None and settings.d_whisper != projector_found.d_in:
        raise ConfigError(f"{directory}: the config says prosody width {settings.d_whisper}, the projector reads "
                          f"{projector_found.d_in}")
    d_whisper = projector_found.d_in
    projector = ProsodyProjector(d_whisper, config.hidden_size, zero_init=False)
    weights = {ours: tensor.float() for key, tensor in _read(headers, projector_found.keys).items()
               for ours in [projector_found.keys[key]]}
    for bias in ("linear_in.bias", "linear_out.bias"):
        weights.setdefault(bias, torch.zeros(config.hidden_size))  # a projector saved without biases
    projector.load_state_dict(weights, strict=False)
    projector.to(dtype)

    whisperpro = _sibling_whisperpro(directory, settings.whisperpro)
    slm_config = TextProSLMConfig(base_llm=str(llm_dir or directory), whisperpro=whisperpro, d_whisper=d_whisper,
                                  injection=settings.injection, interleave_ratio=settings.interleave_ratio,
                                  placeholder_token=settings.marker, system_prompt=settings.system_prompt,
                                  projector_init="default")
    if settings.unknown:
        log.warning("%s: %s: keys textpro does not read: %s", directory, CONFIG_NAME, ", ".join(settings.unknown))
    return llm, tokenizer, slm_config, projector  # TextProSLM(*parts): built by TextProSLM.from_pretrained


def _sibling_whisperpro(directory: Path, named: str | None) -> str:
    """The WhisperPro the config names; a hub id ("qqjz/WhisperPro") becomes the folder of that name beside the
    checkpoint when the user downloaded it there. The 30Plus SLM pairs with WhisperPro-30Plus."""
    default = "WhisperPro-30Plus" if "30plus" in directory.name.lower() else "WhisperPro"
    name = named or f"qqjz/{default}"
    if Path(name).is_dir():
        return name
    for candidate in (directory.parent / Path(name).name, directory.parent / default):
        if (candidate / "config.json").is_file():
            return str(candidate)
    return name
