"""The authors' released checkpoints (PAPER.md §9), on tiny same-shaped fixtures of each documented variant.

A tiny random Qwen2 (hidden 32) with a Qwen2.5-style template and `<|repo_name|>`, a projector Linear(40 -> 32) ->
GELU -> Linear(32 -> 32) in BF16, and a tiny random Whisper (4 decoder layers) with the real tiny.en tokenizer,
saved in each layout the loader accepts. Each test checks that the loaded model computes exactly what the saved
weights say (the projector's output, the marker's position, the interleave grouping) and that the CLI-level loaders
(TextPro.from_pretrained, Transcriber.from_pretrained) take the directories.
"""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

from tests.test_slm import QWEN25_TEMPLATE  # the released checkpoints' chat template (Qwen2.5-Instruct)
from textpro.errors import ConfigError, ModelError
from textpro.slm import TextProSLM
from textpro.slm.release import is_release_slm, is_release_whisperpro, load_release_whisperpro
from textpro.whisperpro.speech_tokens import SpeechTokens

D_IN, D = 40, 32  # stand-ins for 1280 -> 3584


@pytest.fixture(scope="module")
def parts(smollm2_dir):
    """(llm, tokenizer, projector tensors) shared by the layouts."""
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    tokenizer.chat_template = QWEN25_TEMPLATE
    tokenizer.add_tokens(["<|repo_name|>"], special_tokens=True)
    torch.manual_seed(0)
    llm = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), hidden_size=D, intermediate_size=64,
                                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                       tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
                                       pad_token_id=2)).to(torch.bfloat16)
    llm.config.dtype = torch.bfloat16  # as the released config.json says
    projector = {"0.weight": torch.randn(D, D_IN), "0.bias": torch.randn(D), "2.weight": torch.randn(D, D) / 5,
                 "2.bias": torch.randn(D)}
    return llm, tokenizer, {k: v.to(torch.bfloat16) for k, v in projector.items()}


def settings(tokenizer, **extra):
    return {"fusion_mode": "global", "prosody_token": "<|repo_name|>",
            "prosody_token_id": tokenizer.convert_tokens_to_ids("<|repo_name|>"), "prosody_dim": D_IN, **extra}


def save_layout(path, parts, layout, config):
    llm, tokenizer, projector = parts
    path.mkdir(parents=True)
    (path / "textpro_config.json").write_text(json.dumps(config))
    if layout == "separate":  # HF LLM at the top, the projector in its own file
        llm.save_pretrained(path)
        tokenizer.save_pretrained(path)
        save_file(projector, path / "prosody_projector.safetensors")
    elif layout == "sharded-inside":  # the projector's tensors inside the LLM's (sharded) safetensors
        llm.save_pretrained(path, max_shard_size="100KB")
        tokenizer.save_pretrained(path)
        index = json.loads((path / "model.safetensors.index.json").read_text())
        last = sorted(set(index["weight_map"].values()))[-1]
        from safetensors.torch import load_file

        tensors = load_file(path / last)
        tensors |= {f"prosody_projector.{k}": v for k, v in projector.items()}
        save_file(tensors, path / last, metadata={"format": "pt"})
    elif layout == "wrapper":  # one state dict of the whole module: llm.model.…, projector.mlp.…, LLM config in llm/
        state = {f"llm.{k}": v for k, v in llm.state_dict().items()}
        state |= {f"projector.mlp.{k}": v for k, v in projector.items()}
        save_file({k: v.contiguous() for k, v in state.items()}, path / "model.safetensors")
        llm.config.save_pretrained(path / "llm")
        tokenizer.save_pretrained(path)
    elif layout == "unnamed":  # projector tensors with meaningless names: found by shape
        llm.save_pretrained(path)
        tokenizer.save_pretrained(path)
        save_file({"a.weight": projector["0.weight"], "a.bias": projector["0.bias"],
                   "b.weight": projector["2.weight"], "b.bias": projector["2.bias"]}, path / "extra.safetensors")
    return path


def expected_projection(projector, x):
    """Linear -> GELU -> Linear in BF16, as the released projector computes it."""
    linear = torch.nn.functional.linear
    hidden = torch.nn.functional.gelu(linear(torch.as_tensor(x).to(torch.bfloat16), projector["0.weight"],
                                             projector["0.bias"]))
    return linear(hidden, projector["2.weight"], projector["2.bias"])


def speech(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return SpeechTokens(text="what is the capital of france and why is it paris", token_ids=list(range(n)),
                        starts=np.zeros(n, np.float32), ends=np.zeros(n, np.float32),
                        prosody=rng.normal(size=(n, D_IN)).astype(np.float32),
                        utterance=rng.normal(size=D_IN).astype(np.float32), duration=2.0)


@pytest.mark.parametrize("layout", ["separate", "sharded-inside", "wrapper", "unnamed"])
def test_global_release_layouts_load_and_compute_what_was_saved(parts, layout, tmp_path):
    llm, tokenizer, projector = parts
    path = save_layout(tmp_path / "TextPro-SLM-7B-Global", parts, layout, settings(tokenizer))
    assert is_release_slm(path)
    model = TextProSLM.from_pretrained(path)  # dtype: the checkpoint's own (BF16)
    assert model.config.injection == "global" and model.config.placeholder_token == "<|repo_name|>"
    assert model.config.d_whisper == D_IN and model.llm.dtype == torch.bfloat16 and not model.training
    for key, value in llm.state_dict().items():
        assert torch.equal(model.llm.state_dict()[key], value), key
    s = speech()
    batch = model.builder.build_generation_batch([s])
    embeds = model.embed(batch["input_ids"], batch["prosody_vectors"], batch["prosody_mask"])
    slot = (batch["input_ids"][0] == model.placeholder_id).nonzero().flatten()
    assert len(slot) == 1
    torch.testing.assert_close(embeds[0, slot[0]], expected_projection(projector, s.utterance), rtol=0, atol=0)
    with torch.no_grad():
        logits = model(**{k: v for k, v in batch.items()}).logits
    assert torch.isfinite(logits).all()
    answer = model.generate([s], max_new_tokens=3)  # greedy decoding runs end to end
    assert isinstance(answer[0], str)


def test_interleaving_release_groups_of_five(parts, tmp_path):
    _, tokenizer, projector = parts
    config = settings(tokenizer, fusion_mode="interleaving", interleave_ratio="5:1")
    path = save_layout(tmp_path / "TextPro-SLM-7B-Interleaving", parts, "separate", config)
    model = TextProSLM.from_pretrained(path)
    assert model.config.injection == "interleave" and model.config.interleave_ratio == 5
    s = speech(n=12)
    ids, rows = model.builder.speech(s)
    text_ids = tokenizer.encode(s.text, add_special_tokens=False)
    groups = -(-len(text_ids) // 5)
    assert ids.count(model.placeholder_id) == groups
    assert [i for i, t in enumerate(ids) if t == model.placeholder_id] == [j * 6 for j in range(groups)]
    pooled = np.stack([c.mean(0) for c in np.array_split(s.prosody, groups)])  # N features split into M groups
    np.testing.assert_allclose(rows, pooled, rtol=1e-6)
    batch = model.builder.build_generation_batch([s])
    embeds = model.embed(batch["input_ids"], batch["prosody_vectors"], batch["prosody_mask"])
    slots = (batch["input_ids"][0] == model.placeholder_id).nonzero().flatten()
    torch.testing.assert_close(embeds[0, slots], expected_projection(projector, pooled), rtol=0, atol=0)


def test_30plus_release_uses_global_injection_and_pairs_with_whisperpro_30plus(parts, tmp_path):
    _, tokenizer, _ = parts
    config = {"fusion": {"mode": "global", "marker": "<|repo_name|>"}, "vad": True, "max_segment_seconds": 30,
              "condition_on_previous_text": True, "segment_pooling": "mean"}
    path = save_layout(tmp_path / "TextPro-SLM-7B-30Plus", parts, "separate", config)
    (tmp_path / "WhisperPro-30Plus").mkdir()
    (tmp_path / "WhisperPro-30Plus" / "config.json").write_text("{}")
    model = TextProSLM.from_pretrained(path)
    assert model.config.injection == "global"
    assert model.config.whisperpro == str(tmp_path / "WhisperPro-30Plus")  # the sibling download is found


def test_release_errors_say_what_was_found_and_what_is_missing(parts, tmp_path):
    llm, tokenizer, projector = parts
    base = settings(tokenizer)
    no_projector = save_layout(tmp_path / "a", parts, "separate", base)
    (no_projector / "prosody_projector.safetensors").unlink()
    with pytest.raises(ModelError, match=r"no prosody projector found.*\(32, 40\) and \(32, 32\)"):
        TextProSLM.from_pretrained(no_projector)

    bad_mode = save_layout(tmp_path / "b", parts, "separate", {**base, "fusion_mode": "crossattention"})
    with pytest.raises(ConfigError, match="'crossattention' is not an injection mode"):
        TextProSLM.from_pretrained(bad_mode)

    bad_id = save_layout(tmp_path / "c", parts, "separate", {**base, "prosody_token_id": 151663})
    with pytest.raises(ConfigError, match="is id .* the config says 151663"):
        TextProSLM.from_pretrained(bad_id)

    bad_width = save_layout(tmp_path / "d", parts, "separate", {**base, "prosody_dim": 1280})
    with pytest.raises(ModelError, match=r"no prosody projector found.*\(32, 1280\)"):
        TextProSLM.from_pretrained(bad_width)

    pickled = tmp_path / "e"
    pickled.mkdir()
    (pickled / "textpro_config.json").write_text(json.dumps(base))
    llm.config.save_pretrained(pickled)
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelError, match="only pickled weights \\(pytorch_model.bin\\).*safetensors only"):
        TextProSLM.from_pretrained(pickled)

    remote = save_layout(tmp_path / "f", parts, "separate", base)
    config = json.loads((remote / "config.json").read_text())
    (remote / "config.json").write_text(json.dumps({**config, "model_type": "textpro_qwen2",
                                                    "auto_map": {"AutoModel": "modeling.TextPro"}}))
    with pytest.raises(ModelError, match="never runs a checkpoint's own code"):
        TextProSLM.from_pretrained(remote)

    partial = save_layout(tmp_path / "g", parts, "wrapper", base)
    from safetensors.torch import load_file

    tensors = load_file(partial / "model.safetensors")
    save_file({k: v for k, v in tensors.items() if ".layers.1." not in k}, partial / "model.safetensors")
    with pytest.raises(ModelError, match=r"LLM weights are incomplete: \d+ of \d+ parameters missing.*layers\.1"):
        TextProSLM.from_pretrained(partial)


def test_textpro_own_checkpoints_are_not_mistaken_for_releases(parts, tmp_path):
    llm, tokenizer, _ = parts
    from textpro.slm import TextProSLMConfig

    model = TextProSLM.from_base(TextProSLMConfig(d_whisper=D_IN), llm=llm.float(), tokenizer=tokenizer)
    model.save_pretrained(tmp_path / "ours")
    assert not is_release_slm(tmp_path / "ours")
    llm.to(torch.bfloat16)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "textpro_config.json").write_text("{}")  # textpro's loader reports what is missing
    assert not is_release_slm(tmp_path / "empty")


# ---- WhisperPro ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_whisper(whisper_tiny_en_dir):
    from transformers import WhisperConfig, WhisperForConditionalGeneration, WhisperTokenizerFast

    torch.manual_seed(0)
    config = WhisperConfig(vocab_size=51864, d_model=64, encoder_layers=2, decoder_layers=4,
                           encoder_attention_heads=1, decoder_attention_heads=1, encoder_ffn_dim=96,
                           decoder_ffn_dim=96, num_mel_bins=80, max_source_positions=1500,
                           max_target_positions=64)
    return WhisperForConditionalGeneration(config), WhisperTokenizerFast.from_pretrained(whisper_tiny_en_dir)


@pytest.mark.parametrize("layout", ["wrapper-with-reconstructor", "bare-whisper-model", "custom-config"])
def test_release_whisperpro_layouts(tiny_whisper, whisper_tiny_en_dir, layout, tmp_path):
    from transformers import GenerationConfig, WhisperFeatureExtractor

    from textpro.whisperpro import Transcriber

    model, tokenizer = tiny_whisper
    path = tmp_path / "WhisperPro"
    path.mkdir()
    state = model.state_dict()
    if layout == "wrapper-with-reconstructor":  # WhisperSpeechCodecEncoder: whisper.* plus the training-only parts
        tensors = {f"whisper.{k}": v for k, v in state.items() if k != "proj_out.weight"}
        tensors["reconstructor.frame_queries"] = torch.zeros(10, 8)
        config = {"architectures": ["WhisperSpeechCodecEncoder"], "model_type": "whisper_speech_codec",
                  "auto_map": {"AutoModel": "modeling_whisperpro.WhisperSpeechCodecEncoder"},
                  "whisper_config": {**model.config.to_dict(), "model_type": "whisper"}, "prosody_layer": 2}
        generation = GenerationConfig.from_pretrained(whisper_tiny_en_dir)
        generation.alignment_heads = None  # tiny.en's heads do not exist in this tiny decoder
        generation.save_pretrained(path)
        WhisperFeatureExtractor().save_pretrained(path)
    elif layout == "bare-whisper-model":  # WhisperModel's keys (encoder.*, decoder.*), no generation config
        tensors = {k.removeprefix("model."): v for k, v in state.items() if k != "proj_out.weight"}
        config = {"model_type": "whisper", "d_model": 64}  # the rest is read off the tensors
    else:  # a custom model_type with nothing but the feature layer: every size from the shapes
        tensors = dict(state)
        tensors.pop("proj_out.weight")
        config = {"model_type": "whisperpro_encoder", "feature_layer": 3}
    save_file({k: v.contiguous() for k, v in tensors.items()}, path / "model.safetensors")
    (path / "config.json").write_text(json.dumps(config))
    tokenizer.save_pretrained(path)
    assert is_release_whisperpro(path)

    loaded, processor = load_release_whisperpro(path)
    assert loaded.config.decoder_layers == 4 and loaded.config.d_model == 64
    assert loaded.config.prosody_layer == {"wrapper-with-reconstructor": 2, "bare-whisper-model": 2,
                                           "custom-config": 3}[layout]
    for key, value in state.items():
        torch.testing.assert_close(loaded.state_dict()[key], value, rtol=0, atol=0)
    assert loaded.proj_out.weight.data_ptr() == loaded.model.decoder.embed_tokens.weight.data_ptr()
    assert processor.feature_extractor.feature_size == 80
    transcriber = Transcriber.from_pretrained(str(path))
    assert transcriber.sot == tokenizer.convert_tokens_to_ids("<|startoftranscript|>") and not transcriber.multilingual
    assert transcriber.full_window and transcriber.condition_on_previous_text  # Whisper's 30 s window; 30Plus context
    if layout == "custom-config":  # one decode is enough (~30 s: Whisper's full 30 s window)
        rng = np.random.default_rng(0)
        audio = (0.1 * rng.standard_normal(16000)).astype(np.float32)
        tokens = transcriber.transcribe(audio)  # random weights: any transcript, but prosody rows of width d_model
        assert tokens.prosody.shape[1:] == (64,) and tokens.utterance.shape == (64,)


def test_plain_hf_whisper_is_not_a_release(tiny_whisper, tmp_path):
    model, tokenizer = tiny_whisper
    model.save_pretrained(tmp_path / "w")
    (tmp_path / "w" / "reconstructor").mkdir()  # a textpro WhisperPro keeps its training-only reconstructor apart
    save_file({"frame_queries": torch.zeros(2, 2)}, tmp_path / "w" / "reconstructor" / "model.safetensors")
    assert not is_release_whisperpro(tmp_path / "w")


def test_release_whisperpro_errors(tiny_whisper, tmp_path):
    model, _ = tiny_whisper
    path = tmp_path / "WhisperPro"
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"model_type": "whisper_speech_codec"}))
    save_file({f"whisper.{k}": v.contiguous() for k, v in model.state_dict().items() if k != "proj_out.weight"},
              path / "model.safetensors")
    with pytest.raises(ModelError, match="no Whisper tokenizer"):
        load_release_whisperpro(path)
    save_file({"reconstructor.x": torch.zeros(2)}, path / "model.safetensors")
    with pytest.raises(ModelError, match="no Whisper encoder among the weights.*reconstructor"):
        load_release_whisperpro(path)
    (path / "model.safetensors").unlink()
    (path / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(ModelError, match="only pickled weights"):
        load_release_whisperpro(path)


def test_integer_release_settings_are_read_from_any_of_their_names_and_a_bad_one_is_named(tmp_path):
    from textpro.slm.release import read_release_settings

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model": {"prosody_token_id": "151665", "prosody_dim": 1280}}))
    settings = read_release_settings(path)
    assert (settings.marker_id, settings.d_whisper) == (151665, 1280)
    path.write_text(json.dumps({"system": "hi"}))
    assert (read_release_settings(path).marker_id, read_release_settings(path).d_whisper) == (None, None)
    for bad, message in (({"marker_id": "<prosody>"}, "marker_id = '<prosody>' is not a token id"),
                         ({"whisper_dim": [1280]}, r"whisper_dim = \[1280\] is not a width")):
        path.write_text(json.dumps(bad))
        with pytest.raises(ConfigError, match=message):
            read_release_settings(path)
