"""Read a CTranslate2 `model.bin` and map a Whisper model's variables onto HF `WhisperForConditionalGeneration`.

We read the file ourselves (about 30 lines) rather than depend on the `ctranslate2` runtime: the format is a flat
list of named arrays, and the runtime is not needed for anything else.

Layout (little endian; str = u16 byte length including the trailing NUL, then the bytes):
    u32 binary_version, str spec_name, u32 spec_revision, u32 n_variables,
    n_variables × {str name, u8 rank, u32 dims[rank], u8 dtype, u32 n_bytes, bytes data},
    u32 n_aliases, n_aliases × {str alias, str target}
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

from textpro.errors import ModelError

# CTranslate2 dtype codes -> numpy
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
_BF16 = 5


def read_ct2_variables(path: str | Path) -> dict[str, np.ndarray]:
    """All variables of a CTranslate2 model file, aliases resolved, as numpy arrays (float16 kept as is)."""
    data = Path(path).read_bytes()
    pos = 0

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    def take_str() -> str:
        nonlocal pos
        (length,) = take("H")
        text = data[pos : pos + length].rstrip(b"\0").decode("utf-8")
        pos += length
        return text

    try:
        (version,) = take("I")
        if version < 3 or version > 6:
            raise ModelError(f"{path}: CTranslate2 binary version {version} is not supported (3..6)")
        take_str()  # spec name
        take("I")  # spec revision
        (n_variables,) = take("I")
        variables: dict[str, np.ndarray] = {}
        for _ in range(n_variables):
            name = take_str()
            (rank,) = take("B")
            dims = take(f"{rank}I") if rank else ()
            (dtype_code,) = take("B")
            (n_bytes,) = take("I")
            raw = data[pos : pos + n_bytes]
            pos += n_bytes
            if dtype_code == _BF16:  # bfloat16: the high half of a float32
                array = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
            elif dtype_code in _DTYPES:
                array = np.frombuffer(raw, _DTYPES[dtype_code])
            else:
                raise ModelError(f"{path}: variable {name} has unknown dtype code {dtype_code}")
            variables[name] = array.reshape(dims)
        (n_aliases,) = take("I")
        for _ in range(n_aliases):
            alias, target = take_str(), take_str()
            variables[alias] = variables[target]
    except struct.error:
        raise ModelError(f"{path}: truncated or not a CTranslate2 model file") from None
    return variables


# ---------------------------------------------------------------------------------------------------------------
# Whisper: CTranslate2 variable names -> HF WhisperForConditionalGeneration state dict

# Scalars CTranslate2 stores as variables; they describe the architecture and carry no weights. Those with a
# value here must have it, or the network is not the Whisper that HF implements (3 = GELU in CTranslate2).
_WHISPER_SETTINGS = {"activation": 3, "alibi": 0, "alibi_use_positive_positions": None, "scale_alibi": None,
                     "alignment_heads": None, "alignment_layer": None, "num_heads": None, "pre_norm": 1,
                     "scale_embeddings": 0, "start_from_zero_embedding": 0}
_LAYER_NORMS = {  # (stack, CT2 block) -> HF layer norm name inside the layer
    ("encoder", "self_attention"): "self_attn_layer_norm",
    ("encoder", "ffn"): "final_layer_norm",
    ("decoder", "self_attention"): "self_attn_layer_norm",
    ("decoder", "attention"): "encoder_attn_layer_norm",
    ("decoder", "ffn"): "final_layer_norm",
}


def ct2_whisper_to_hf_state_dict(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename (and split fused q/k/v) every weight; raise ModelError on any variable that does not map."""
    out: dict[str, np.ndarray] = {}
    unmapped: list[str] = []
    for name, value in variables.items():
        parts = name.split("/")
        stack = parts[0]
        if stack not in ("encoder", "decoder") or len(parts) < 2:
            unmapped.append(name)
            continue
        hf = f"model.{stack}"
        if len(parts) == 2 and parts[1] in _WHISPER_SETTINGS:
            required = _WHISPER_SETTINGS[parts[1]]
            if required is not None and int(value) != required:
                raise ModelError(f"CTranslate2 setting {name}={int(value)} is not Whisper's ({required})")
            continue
        if parts[1] in ("conv1", "conv2") and len(parts) == 3:
            out[f"{hf}.{parts[1]}.{parts[2]}"] = value
        elif parts[1:] == ["position_encodings", "encodings"]:
            out[f"{hf}.embed_positions.weight"] = value
        elif stack == "decoder" and parts[1:] == ["embeddings", "weight"]:
            out[f"{hf}.embed_tokens.weight"] = value
        elif stack == "decoder" and parts[1:] == ["projection", "weight"]:
            out["proj_out.weight"] = value
        elif parts[1] == "layer_norm" and len(parts) == 3:
            out[f"{hf}.layer_norm.{_norm_param(parts[2])}"] = value
        elif (match := re.fullmatch(r"layer_(\d+)", parts[1])) and len(parts) == 5:
            prefix = f"{hf}.layers.{match.group(1)}"
            block, sub, param = parts[2], parts[3], parts[4]
            if sub == "layer_norm" and (stack, block) in _LAYER_NORMS:
                out[f"{prefix}.{_LAYER_NORMS[stack, block]}.{_norm_param(param)}"] = value
            elif block == "ffn" and sub in ("linear_0", "linear_1"):
                out[f"{prefix}.{'fc1' if sub == 'linear_0' else 'fc2'}.{param}"] = value
            elif block == "self_attention" and sub == "linear_0":
                _split_fused(out, f"{prefix}.self_attn", ("q", "k", "v"), value, param, name)
            elif block == "self_attention" and sub == "linear_1":
                out[f"{prefix}.self_attn.out_proj.{param}"] = value
            elif stack == "decoder" and block == "attention" and sub == "linear_0":
                out[f"{prefix}.encoder_attn.q_proj.{param}"] = value
            elif stack == "decoder" and block == "attention" and sub == "linear_1":
                _split_fused(out, f"{prefix}.encoder_attn", ("k", "v"), value, param, name)
            elif stack == "decoder" and block == "attention" and sub == "linear_2":
                out[f"{prefix}.encoder_attn.out_proj.{param}"] = value
            else:
                unmapped.append(name)
        else:
            unmapped.append(name)
    if unmapped:
        raise ModelError(f"CTranslate2 Whisper variables with no HF counterpart: {', '.join(sorted(unmapped)[:5])}")
    return out


def _norm_param(param: str) -> str:
    return {"gamma": "weight", "beta": "bias"}[param]


def _split_fused(out: dict, prefix: str, names: tuple[str, ...], value: np.ndarray, param: str, source: str):
    """CTranslate2 fuses q/k/v (or k/v) projections along the output axis; HF keeps them apart."""
    chunks = np.split(value, len(names), axis=0)
    for name, chunk in zip(names, chunks, strict=True):
        if name == "k" and param == "bias":
            # HF's k_proj has no bias; CTranslate2 stores zeros there. Anything else would be silently lost.
            if np.any(chunk != 0):
                raise ModelError(f"{source}: non-zero key bias cannot be represented in HF Whisper")
            continue
        out[f"{prefix}.{name}_proj.{param}"] = chunk


def convert_ct2_whisper(model_bin: Path, config_json: Path, tokenizer_json: Path, out_dir: Path) -> None:
    """Write an HF Whisper directory (safetensors weights, config, generation config, tokenizer, feature
    extractor) from a CTranslate2 Whisper model. Raises ModelError unless every tensor maps one-to-one."""
    import json

    from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration, WhisperProcessor

    variables = read_ct2_variables(model_bin)
    ct2_config = json.loads(Path(config_json).read_text())
    tokenizer_spec = json.loads(Path(tokenizer_json).read_text())
    state = ct2_whisper_to_hf_state_dict(variables)

    added = {t["content"]: t["id"] for t in tokenizer_spec["added_tokens"]}
    config = _whisper_config(variables, added)
    model = WhisperForConditionalGeneration(config)
    _load_weights(model, state, model_bin)
    tokenizer = _whisper_tokenizer(tokenizer_json, added, config.vocab_size)
    model.generation_config = _generation_config(ct2_config, added, config)

    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    WhisperProcessor(WhisperFeatureExtractor(feature_size=config.num_mel_bins), tokenizer).save_pretrained(out_dir)


def _whisper_config(variables: dict[str, np.ndarray], added: dict[str, int]):
    """The HF WhisperConfig read off the variables' shapes and settings."""
    from transformers import WhisperConfig

    eot, sot = added["<|endoftext|>"], added["<|startoftranscript|>"]
    vocab_size, d_model = variables["decoder/embeddings/weight"].shape
    n_layers = {s: len({n.split("/")[1] for n in variables if re.match(rf"{s}/layer_\d+/", n)})
                for s in ("encoder", "decoder")}
    return WhisperConfig(
        vocab_size=vocab_size,
        num_mel_bins=variables["encoder/conv1/weight"].shape[1],
        d_model=d_model,
        encoder_layers=n_layers["encoder"],
        decoder_layers=n_layers["decoder"],
        encoder_attention_heads=int(variables["encoder/num_heads"]),
        decoder_attention_heads=int(variables["decoder/num_heads"]),
        encoder_ffn_dim=variables["encoder/layer_0/ffn/linear_0/weight"].shape[0],
        decoder_ffn_dim=variables["decoder/layer_0/ffn/linear_0/weight"].shape[0],
        max_source_positions=variables["encoder/position_encodings/encodings"].shape[0],
        max_target_positions=variables["decoder/position_encodings/encodings"].shape[0],
        pad_token_id=eot, bos_token_id=eot, eos_token_id=eot, decoder_start_token_id=sot,
        begin_suppress_tokens=None, suppress_tokens=None,  # these belong to the generation config
        tie_word_embeddings=True,
        torch_dtype="float32",
    )


def _load_weights(model, state: dict[str, np.ndarray], model_bin: Path) -> None:
    """Load `state` into `model` after checking that its keys and shapes are exactly the model's."""
    import torch

    expected = set(model.state_dict())
    got = set(state)
    if "proj_out.weight" in got:  # tied to the token embedding in HF; keep only if identical
        if not np.array_equal(state["proj_out.weight"], state["model.decoder.embed_tokens.weight"]):
            raise ModelError(f"{model_bin}: output projection differs from the token embedding (untied)")
        got.discard("proj_out.weight")
        del state["proj_out.weight"]
    expected.discard("proj_out.weight")
    if got != expected:
        missing, unexpected = sorted(expected - got), sorted(got - expected)
        raise ModelError(f"{model_bin}: weights do not map onto HF Whisper (missing {missing[:4]}, "
                         f"unexpected {unexpected[:4]})")
    tensors = {k: torch.from_numpy(v.astype(np.float32)) for k, v in state.items()}
    for key, param in model.state_dict().items():
        if key in tensors and tuple(param.shape) != tuple(tensors[key].shape):
            raise ModelError(f"{model_bin}: {key} has shape {tuple(tensors[key].shape)}, HF expects "
                             f"{tuple(param.shape)}")
    model.load_state_dict(tensors, strict=False)  # strict key check done above; proj_out is tied
    model.tie_weights()


def _whisper_tokenizer(tokenizer_json: Path, added: dict[str, int], vocab_size: int):
    """Every added token must be special, or timestamp decoding is off (timestamp_begin is computed from the last
    special id). Timestamp tokens <|0.00|>..<|30.00|> follow as ordinary added tokens."""
    from transformers import WhisperTokenizerFast

    eot = added["<|endoftext|>"]
    specials = [t for t, i in sorted(added.items(), key=lambda kv: kv[1]) if i > eot]
    tokenizer = WhisperTokenizerFast(
        tokenizer_file=str(tokenizer_json), bos_token="<|endoftext|>", eos_token="<|endoftext|>",
        unk_token="<|endoftext|>", pad_token="<|endoftext|>", additional_special_tokens=specials,
    )
    timestamp_begin = added["<|notimestamps|>"] + 1
    tokenizer.add_tokens([f"<|{i * 0.02:.2f}|>" for i in range(vocab_size - timestamp_begin)])
    if len(tokenizer) != vocab_size:
        raise ModelError(f"{tokenizer_json}: tokenizer has {len(tokenizer)} tokens, model {vocab_size}")
    return tokenizer


def _generation_config(ct2_config: dict, added: dict[str, int], config):
    """Whisper's generation config: CTranslate2's alignment heads and suppressed ids, and the language and task
    ids of a multilingual model."""
    from transformers import GenerationConfig

    eot, sot = added["<|endoftext|>"], added["<|startoftranscript|>"]
    lang_to_id = {t: i for t, i in added.items() if i in set(ct2_config.get("lang_ids", []))}
    multilingual = config.vocab_size >= 51865  # English-only checkpoints have 51864 tokens (HF uses the same test)
    generation = GenerationConfig(
        decoder_start_token_id=sot, bos_token_id=eot, eos_token_id=eot, pad_token_id=eot,
        max_length=config.max_target_positions,
        alignment_heads=[list(h) for h in ct2_config["alignment_heads"]],
        begin_suppress_tokens=ct2_config["suppress_ids_begin"],
        suppress_tokens=ct2_config["suppress_ids"],
        no_timestamps_token_id=added["<|notimestamps|>"],
        prev_sot_token_id=added["<|startofprev|>"],
        max_initial_timestamp_index=50,
        return_timestamps=False,
        is_multilingual=multilingual,
    )
    if multilingual:
        generation.lang_to_id = lang_to_id
        generation.task_to_id = {"transcribe": added["<|transcribe|>"], "translate": added["<|translate|>"]}
    return generation
