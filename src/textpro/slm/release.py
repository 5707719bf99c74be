"""The authors' released checkpoints (PAPER.md §9), loaded without their code.

    qqjz/TextPro-SLM-3B-Global, -7B-Global, -7B-Interleaving, -7B-30Plus   -> load_release_slm(DIR)  (a TextProSLM)
    qqjz/WhisperPro, qqjz/WhisperPro-30Plus                                -> load_release_whisperpro(DIR)

`TextProSLM.from_pretrained` and `Transcriber.from_pretrained` call these when a directory is not in textpro's own
layout, so `textpro chat|serve|eval --model SLM_DIR --whisperpro WHISPERPRO_DIR` runs a downloaded release as is.

The files could not be fetched here, so this is written against the model cards' facts and accepts every layout
those facts allow; anything else fails with a ModelError/ConfigError that lists what was found and what is missing.

TextPro-SLM (Qwen2.5-3B/7B-Instruct, fully fine-tuned; projector Linear(1280->d) -> GELU -> Linear(d->d), BF16):
  * the LLM: an HF directory (config.json + model*.safetensors, sharded or not) at the top or in a subfolder
    (llm/, language_model/, model/, backbone/), or its tensors under a wrapper prefix (`llm.model.layers…`,
    `language_model.…`, `model.llm.…`) in any of the directory's safetensors files;
  * the projector: in its own file (projector.safetensors, prosody_projector.safetensors, mm_projector.safetensors,
    any other safetensors file, or a projector/ subfolder) or inside the LLM's shards; found by name (a module whose
    path contains proj / prosody / mlp / adapter) or, failing that, by shape: a (d, d_in) and a (d, d) weight with
    d = the LLM's hidden size (their biases when present);
  * the settings: `textpro_config.json`, keys mapped by meaning (injection / fusion_mode / mode: global | prepend |
    interleave | interleaving; interleave_ratio / ratio / group_size / "5:1"; prosody_token / marker /
    placeholder_token and its id; prosody_dim / whisper_dim / d_whisper; nested objects are read too). Unknown keys
    are reported, not fatal; a contradictory value (an unknown mode, a marker missing from the tokenizer, an id that
    is not the marker's, a width that is not the projector's) is an error;
  * the tokenizer: beside the LLM, at the top or in tokenizer/; the marker defaults to `<|repo_name|>` (151663).
WhisperPro (fine-tuned Whisper-large-v3, prosody = decoder layer 16):
  * a plain HF Whisper directory loads as is (no code here); otherwise the Whisper tensors are found under any
    prefix (`model.encoder…`, `encoder…`, `whisper.model.encoder…`), the mel reconstructor and anything else is
    dropped, the architecture is read from config.json (top level or a nested whisper_config) and, where it is
    silent, from the tensor shapes; prosody_layer from config.json / textpro_config.json, else 16 of 32 (the middle);
    the feature extractor from preprocessor_config.json or the mel-bin count; the tokenizer is required;
    generation settings from generation_config.json or derived from the tokenizer's special tokens.
Only safetensors are read (a directory with only pickled weights is refused) and no code from the directory is ever
run (`auto_map` / remote code is ignored: the architecture must be one transformers ships).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch

from textpro.errors import ConfigError, ModelError

log = logging.getLogger(__name__)

RELEASE_MARKER = "<|repo_name|>"
RELEASE_MARKER_ID = 151663
RELEASE_PROSODY_LAYER = 16  # of Whisper-large-v3's 32 decoder layers
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
LLM_SUBDIRS = ("llm", "language_model", "model", "backbone", "text_model")
PROJECTOR_FILES = ("projector.safetensors", "prosody_projector.safetensors", "mm_projector.safetensors")
PROJECTOR_HINTS = ("proj", "prosody", "mlp", "adapter", "connector", "fusion")

# textpro_config.json keys by meaning (first match wins; nested objects are flattened first)
INJECTION_KEYS = ("injection", "injection_mode", "fusion_mode", "fusion", "fusion_type", "prosody_injection",
                  "prosody_mode", "injection_strategy", "strategy", "mode")
RATIO_KEYS = ("interleave_ratio", "interleaving_ratio", "ratio", "group_size", "text_tokens_per_prosody",
              "tokens_per_marker", "tokens_per_prosody", "interleave_every", "interleave_group_size", "chunk_size")
MARKER_KEYS = ("prosody_token", "placeholder_token", "prosody_marker", "marker", "marker_token", "special_token",
               "prosody_placeholder")
MARKER_ID_KEYS = ("prosody_token_id", "placeholder_token_id", "prosody_marker_id", "marker_id", "marker_token_id",
                  "special_token_id")
D_WHISPER_KEYS = ("d_whisper", "prosody_dim", "whisper_dim", "prosody_hidden_size", "whisper_hidden_size",
                  "input_dim", "in_dim", "encoder_dim", "projector_input_dim")
SYSTEM_KEYS = ("system_prompt", "system")
WHISPERPRO_KEYS = ("whisperpro", "whisperpro_path", "whisper_model", "speech_encoder", "encoder_path",
                   "whisperpro_model")
LAYER_KEYS = ("prosody_layer", "whisper_layer", "prosody_decoder_layer", "feature_layer", "decoder_layer", "layer")
# understood, and either used elsewhere (long audio: the Transcriber always cuts at pauses into <= 30 s segments,
# prompts with the previous text and averages the segments' vectors with equal weight) or descriptive
KNOWN_KEYS = (("vad", "use_vad", "max_segment_seconds", "segment_seconds", "max_audio_seconds", "long_audio",
               "condition_on_previous_text", "previous_text", "segment_pooling", "pooling", "prosody_pooling",
               "projector_hidden_size", "projector_dim", "hidden_size", "d_llm", "llm_hidden_size", "dtype",
               "torch_dtype", "projector_dtype", "projector_activation", "activation", "base_model", "llm",
               "backbone", "step", "global_step", "version", "model_type", "architectures")
              + INJECTION_KEYS + RATIO_KEYS + MARKER_KEYS + MARKER_ID_KEYS + D_WHISPER_KEYS + SYSTEM_KEYS
              + WHISPERPRO_KEYS + LAYER_KEYS)
GLOBAL_NAMES = ("global", "prepend", "prepending", "global_prepend", "global_prepending", "global-prepend", "utterance")
INTERLEAVE_NAMES = ("interleave", "interleaving", "interleaved")


# ==== files ========================================================================================================
def _safetensors_files(directory: Path) -> list[Path]:
    """Every safetensors file at the top and one folder down (sorted: shards in order)."""
    return sorted([*directory.glob("*.safetensors"), *directory.glob("*/*.safetensors")])


def _refuse_pickles(directory: Path, what: str) -> list[Path]:
    files = _safetensors_files(directory)
    if not files:
        pickled = sorted(p.name for p in [*directory.glob("*"), *directory.glob("*/*")]
                         if p.suffix in PICKLE_SUFFIXES)
        found = ", ".join(sorted(p.name for p in directory.iterdir())[:12]) or "nothing"
        reason = (f"only pickled weights ({', '.join(pickled[:4])}): textpro reads safetensors only (convert them "
                  "with a trusted tool first)") if pickled else "no safetensors weights"
        raise ModelError(f"{directory}: not a loadable {what}: {reason}; found: {found}")
    return files


def _headers(files: list[Path]) -> dict[str, tuple[Path, tuple[int, ...]]]:
    """tensor name -> (file, shape), read from the safetensors headers only."""
    from safetensors import safe_open

    out = {}
    for path in files:
        try:
            with safe_open(str(path), framework="pt") as f:
                for key in f.keys():
                    out.setdefault(key, (path, tuple(f.get_slice(key).get_shape())))
        except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
            raise ModelError(f"{path}: not a readable safetensors file ({exc})") from None
    return out


def _read(headers: dict, keys) -> dict[str, torch.Tensor]:
    from safetensors import safe_open

    by_file: dict[Path, list[str]] = {}
    for key in keys:
        by_file.setdefault(headers[key][0], []).append(key)
    out = {}
    for path, names in by_file.items():
        with safe_open(str(path), framework="pt") as f:
            for name in names:
                out[name] = f.get_tensor(name)
    return out


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: unreadable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def _flatten(data: dict, prefix: str = "") -> dict:
    """Nested objects flattened; each value reachable by its own key and by its dotted path (outer keys first)."""
    flat: dict = {}
    nested = []
    for key, value in data.items():
        if isinstance(value, dict):
            nested.append((key, value))
        else:
            flat.setdefault(key, value)
            flat.setdefault(f"{prefix}{key}", value)
    for key, value in nested:
        for inner_key, inner_value in _flatten(value, f"{prefix}{key}.").items():
            flat.setdefault(inner_key, inner_value)
    return flat


def _pick(settings: dict, keys: tuple[str, ...]):
    for key in keys:
        if key in settings and settings[key] is not None:
            return key, settings[key]
    return None, None


# ==== TextPro-SLM ==================================================================================================
def is_release_slm(directory: Path) -> bool:
    """A directory with a textpro_config.json that textpro did not write (its projector file or its settings are not
    textpro's own)."""
    from safetensors import safe_open

    from textpro.slm.config import CONFIG_NAME, TextProSLMConfig
    from textpro.slm.model import PROJECTOR_NAME

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
    key, marker_id = _pick(flat, MARKER_ID_KEYS)
    if marker_id is not None:
        try:
            settings.marker_id = int(marker_id)
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: {key} = {marker_id!r} is not a token id") from None
    key, width = _pick(flat, D_WHISPER_KEYS)
    if width is not None:
        try:
            settings.d_whisper = int(width)
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: {key} = {width!r} is not a width") from None
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


def _rebuild_meta_buffers(model) -> None:
    """Modules built on the meta device keep meta buffers that no checkpoint holds (rotary inv_freq): rebuild
    those modules from the config on the CPU."""
    for name, module in list(model.named_modules()):
        if any(b.is_meta for b in module.buffers(recurse=False)):
            fresh = type(module)(config=model.config) if "config" in type(module).__init__.__code__.co_varnames \
                else None
            if fresh is None:
                raise ModelError(f"cannot rebuild {name} ({type(module).__name__}) after loading")
            parent = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
            setattr(parent, name.rsplit(".", 1)[-1], fresh)
    if left := [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]:
        raise ModelError(f"not loaded from the checkpoint: {', '.join(left[:4])}")


def load_release_slm(directory, dtype: torch.dtype | None = None, device=None):
    """A released TextPro-SLM directory -> TextProSLM (eval mode). dtype None: the checkpoint's own (BF16 for the
    released models; fp32 if it names none)."""
    from transformers import AutoModelForCausalLM

    from textpro.slm.config import CONFIG_NAME, TextProSLMConfig
    from textpro.slm.model import TextProSLM
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
    model = TextProSLM(llm, tokenizer, slm_config, projector)
    if device is not None:
        model.to(device)
    return model.eval()


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


# ==== WhisperPro ===================================================================================================
WHISPER_ANCHOR = "encoder.conv1.weight"


def is_release_whisperpro(directory: Path) -> bool:
    """Not a plain HF Whisper directory: a custom config (auto_map, another model_type) or tensors that are not
    WhisperForConditionalGeneration's (a wrapper prefix, a reconstructor beside them)."""
    config = directory / "config.json"
    if not config.is_file():
        return False
    try:
        data = json.loads(config.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    if not isinstance(data, dict) or data.get("model_type") not in ("whisper", "whisperpro") or "auto_map" in data:
        return True
    files = sorted(directory.glob("*.safetensors"))  # the top level only: textpro keeps its reconstructor/ apart
    if not files:
        return any(p.suffix in PICKLE_SUFFIXES for p in directory.iterdir())  # refused with a clear message
    keys = set(_headers(files))
    return "model.encoder.conv1.weight" not in keys or any(
        not (k.startswith("model.") or k.startswith("proj_out.")) for k in keys)


def _whisper_config(directory: Path, shapes: dict[str, tuple[int, ...]], prefix: str):
    """WhisperProConfig from config.json (top level or nested) with what it does not say read off the tensors."""
    from transformers import WhisperConfig

    from textpro.whisperpro.config import WhisperProConfig

    data = _json(directory / "config.json")
    for nested in ("whisper_config", "backbone_config", "whisper", "encoder_config", "config"):
        if isinstance(data.get(nested), dict):
            data = {**data, **data[nested]}
    known = set(WhisperConfig().to_dict())
    fields = {k: v for k, v in data.items() if k in known and k not in ("architectures", "model_type",
                                                                          "transformers_version", "auto_map")}

    def shape(name):
        return shapes.get(prefix + name)

    def count(part):
        pattern = re.compile(re.escape(prefix) + rf"{part}\.layers\.(\d+)\.")
        return 1 + max((int(m.group(1)) for k in shapes if (m := pattern.match(k))), default=-1)

    conv1, tokens = shape("encoder.conv1.weight"), shape("decoder.embed_tokens.weight")
    inferred = {"d_model": conv1[0], "num_mel_bins": conv1[1], "vocab_size": tokens[0],
                "encoder_layers": count("encoder"), "decoder_layers": count("decoder")}
    if (fc1 := shape("encoder.layers.0.fc1.weight")) is not None:
        inferred["encoder_ffn_dim"] = fc1[0]
    if (fc1 := shape("decoder.layers.0.fc1.weight")) is not None:
        inferred["decoder_ffn_dim"] = fc1[0]
    if (pos := shape("encoder.embed_positions.weight")) is not None:
        inferred["max_source_positions"] = pos[0]
    if (pos := shape("decoder.embed_positions.weight")) is not None:
        inferred["max_target_positions"] = pos[0]
    for key, value in fields.items():
        if key in inferred and value != inferred[key]:
            raise ModelError(f"{directory / 'config.json'}: {key} = {value}, but the weights say {inferred[key]}")
    heads = max(1, inferred["d_model"] // 64)  # every Whisper size has 64-wide heads, unless the config says
    fields = {"encoder_attention_heads": heads, "decoder_attention_heads": heads, **fields}
    settings = _flatten(data)
    extra = _json(directory / "textpro_config.json") if (directory / "textpro_config.json").is_file() else {}
    _, layer = _pick({**_flatten(extra), **settings}, LAYER_KEYS)
    decoder_layers = inferred["decoder_layers"]
    if layer is None:
        layer = RELEASE_PROSODY_LAYER if decoder_layers == 32 else max(1, decoder_layers // 2)
    # The released model was trained and run on Whisper's standard 30 s window: keep it (textpro's own checkpoints
    # may run on the clip's frames plus a little silence instead)
    _, padding = _pick({**_flatten(extra), **settings}, ("encoder_padding_seconds",))
    return WhisperProConfig(**{**fields, **inferred, "prosody_layer": int(layer), "encoder_padding_seconds": padding})


def _whisper_generation_config(directory: Path, tokenizer, config):
    """generation_config.json when shipped; else what the Transcriber needs, derived from the tokenizer."""
    from transformers import GenerationConfig

    if (directory / "generation_config.json").is_file():
        return GenerationConfig.from_pretrained(directory)
    vocab = tokenizer.get_vocab()
    needed = ("<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>")
    if missing := [t for t in needed if t not in vocab]:
        raise ModelError(f"{directory}: no generation_config.json and the tokenizer lacks {', '.join(missing)}")
    specials = {"<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>", "<|startofprev|>", "<|startoflm|>",
                "<|transcribe|>", "<|translate|>", "<|nocaptions|>", "<|nospeech|>"}
    languages = {t: i for t, i in vocab.items() if re.fullmatch(r"<\|[a-z]{2,3}\|>", t) and t not in specials}
    eot = vocab["<|endoftext|>"]
    generation = GenerationConfig(
        decoder_start_token_id=vocab["<|startoftranscript|>"], eos_token_id=eot, pad_token_id=eot,
        bos_token_id=eot, no_timestamps_token_id=vocab["<|notimestamps|>"],
        prev_sot_token_id=vocab.get("<|startofprev|>"), begin_suppress_tokens=[vocab.get("Ġ", 220), eot],
        suppress_tokens=[], max_length=config.max_target_positions,
        is_multilingual=config.vocab_size >= 51865 and bool(languages))  # openai's rule: .en models have 51864
    if generation.is_multilingual:
        generation.lang_to_id = dict(sorted(languages.items(), key=lambda item: item[1]))
        generation.task_to_id = {"transcribe": vocab["<|transcribe|>"], "translate": vocab["<|translate|>"]}
    return generation


def load_release_whisperpro(directory, dtype: torch.dtype = torch.float32):
    """A released WhisperPro directory -> (WhisperPro, WhisperProcessor)."""
    from transformers import WhisperFeatureExtractor, WhisperProcessor, WhisperTokenizerFast

    from textpro.whisperpro.model import WhisperPro

    directory = Path(directory)
    if not (directory / "config.json").is_file():
        raise ModelError(f"{directory}: no config.json")
    files = _refuse_pickles(directory, "WhisperPro checkpoint")
    headers = _headers(files)
    anchors = [k for k in headers if k.endswith(WHISPER_ANCHOR)]
    if not anchors:
        groups = sorted({k.split(".")[0] for k in headers})
        raise ModelError(f"{directory}: no Whisper encoder among the weights (no *{WHISPER_ANCHOR}); tensor groups "
                         f"found: {', '.join(groups[:10])}")
    prefix = min(anchors, key=len)[: -len(WHISPER_ANCHOR)]  # e.g. "model.", "", "whisper.model."
    shapes = {k: s for k, (_, s) in headers.items()}
    config = _whisper_config(directory, shapes, prefix)

    with torch.device("meta"):
        model = WhisperPro(config)
    expected = set(model.state_dict())
    mapping = {}
    for key in headers:
        if key.startswith(prefix) and (name := "model." + key[len(prefix):]) in expected:
            mapping[key] = name
        elif key == prefix.removesuffix("model.") + "proj_out.weight" and "proj_out.weight" in expected:
            mapping[key] = "proj_out.weight"
    missing = sorted(expected - set(mapping.values()) - {"proj_out.weight"})
    if missing:
        raise ModelError(f"{directory}: the Whisper weights are incomplete: {len(missing)} of {len(expected)} "
                         f"parameters missing (e.g. {', '.join(missing[:3])}); read with prefix {prefix!r}")
    dropped = len(headers) - len(mapping)
    state = {mapping[key]: tensor.to(dtype) for key, tensor in _read(headers, mapping).items()}
    model.load_state_dict(state, strict=False, assign=True)
    if "proj_out.weight" not in state:
        model.proj_out.weight = model.model.decoder.embed_tokens.weight  # Whisper ties its output to the input
    _rebuild_meta_buffers(model)
    if dropped:
        log.info("%s: %d tensors that are not the Whisper model (e.g. the mel reconstructor) were left out",
                 directory, dropped)

    has_tokenizer = (directory / "tokenizer.json").is_file() or (
        (directory / "vocab.json").is_file() and (directory / "merges.txt").is_file())
    if not has_tokenizer:
        raise ModelError(f"{directory}: no Whisper tokenizer (tokenizer.json, or vocab.json + merges.txt): keep the "
                         "tokenizer files supplied with the checkpoint (Whisper-large-v3's)")
    tokenizer = WhisperTokenizerFast.from_pretrained(directory)
    if len(tokenizer) > config.vocab_size:
        raise ModelError(f"{directory}: the tokenizer has {len(tokenizer)} tokens, the model {config.vocab_size}")
    if (directory / "preprocessor_config.json").is_file():
        extractor = WhisperFeatureExtractor.from_pretrained(directory)
    else:
        extractor = WhisperFeatureExtractor(feature_size=config.num_mel_bins)
    if extractor.feature_size != config.num_mel_bins:
        raise ModelError(f"{directory}: the feature extractor makes {extractor.feature_size} mel bins, the model reads "
                         f"{config.num_mel_bins}")
    model.generation_config = _whisper_generation_config(directory, tokenizer, config)
    return model.eval(), WhisperProcessor(feature_extractor=extractor, tokenizer=tokenizer)
