"""The authors' released checkpoints (docs/method.md), loaded without their code: the WhisperPro side and the
safetensors readers both sides share (the TextPro-SLM side: slm/release.py).

    qqjz/TextPro-SLM-3B-Global, -7B-Global, -7B-Interleaving, -7B-30Plus   -> TextProSLM.from_pretrained(DIR)
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
