"""TextPro-SLM: input layout (global / interleave), loss masking, stage freezing, save/load, batched generation.

Tiny random Llama (SmolLM2 family) and Qwen2 models, hidden 64, 2 layers, on the real SmolLM2 tokenizer (the Qwen2
one gets a Qwen2.5-style chat template and `<|repo_name|>`), so nothing touches a network.
"""

import math

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

from textpro.errors import ConfigError
from textpro.slm import IGNORE_INDEX, ProsodyProjector, TextProSLM, TextProSLMConfig, build_training_batch
from textpro.whisperpro.speech_tokens import SpeechTokens

D_WHISPER = 24
QWEN25_TEMPLATE = (  # Qwen2.5-Instruct's template without the tool-calling branches
    "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
    "<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}{%- if not (message.role == 'system' and loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


@pytest.fixture(scope="module")
def smol_dir():
    from textpro.hub import resolve_model

    return resolve_model("smollm2-135m-instruct")


def tiny_llama(smol_dir):
    tokenizer = AutoTokenizer.from_pretrained(smol_dir)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                         initializer_range=0.2,  # else tied embeddings make it echo its last input token
                         bos_token_id=1, eos_token_id=2, pad_token_id=2)
    return LlamaForCausalLM(config), tokenizer


def tiny_qwen2(smol_dir):
    tokenizer = AutoTokenizer.from_pretrained(smol_dir)
    tokenizer.chat_template = QWEN25_TEMPLATE
    tokenizer.add_tokens(["<|repo_name|>"], special_tokens=True)  # as in the Qwen2.5 vocabulary
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                         bos_token_id=1, eos_token_id=2, pad_token_id=2)
    return Qwen2ForCausalLM(config), tokenizer


BACKBONES = {"llama": tiny_llama, "qwen2": tiny_qwen2}


def make_model(smol_dir, backbone="llama", projector_init="default", **config) -> TextProSLM:
    """projector_init "default" (random) unless asked: layout tests need vectors that differ from each other."""
    llm, tokenizer = BACKBONES[backbone](smol_dir)
    config = TextProSLMConfig(d_whisper=D_WHISPER, projector_init=projector_init, **config)
    return TextProSLM.from_base(config, llm=llm, tokenizer=tokenizer).eval()


def speech(text: str, n: int = 9, seed: int = 0) -> SpeechTokens:
    prosody = np.random.default_rng(seed).standard_normal((n, D_WHISPER)).astype(np.float32)
    utterance = prosody.mean(0) if n else np.zeros(D_WHISPER, np.float32)
    return SpeechTokens(text=text, token_ids=list(range(n)), starts=np.zeros(n, np.float32),
                        ends=np.zeros(n, np.float32), prosody=prosody, utterance=utterance, duration=1.0)


QUESTION = " Why is the sky blue during the day but red at sunset, and what does that have to do with air?"


def test_projector_shapes_and_zero_init():
    projector = ProsodyProjector(D_WHISPER, 64, zero_init=True)
    x = torch.randn(3, 5, D_WHISPER)
    assert projector(x).shape == (3, 5, 64)
    assert torch.count_nonzero(projector(x)) == 0
    assert torch.count_nonzero(ProsodyProjector(D_WHISPER, 64, zero_init=False)(x)) > 0


def test_mean_embedding_init(smol_dir):
    """The default start: whatever the prosody, each placeholder reads as the LLM's average token embedding."""
    model = make_model(smol_dir, projector_init="mean_embedding")
    mean = model.llm.get_input_embeddings().weight.mean(0)
    out = model.projector(torch.randn(4, D_WHISPER))
    torch.testing.assert_close(out, mean.expand(4, -1))

def test_placeholder_choice(smol_dir):
    assert make_model(smol_dir, "llama").config.placeholder_token == "<repo_name>"  # SmolLM2 vocab, id 3
    assert make_model(smol_dir, "qwen2").config.placeholder_token == "<|repo_name|>"  # Qwen2.5's marker
    llm, tokenizer = tiny_llama(smol_dir)
    vocab = len(tokenizer)
    model = TextProSLM.from_base(TextProSLMConfig(d_whisper=D_WHISPER, placeholder_token="<|prosody|>"),
                                 llm=llm, tokenizer=tokenizer)
    assert model.placeholder_id == vocab and len(tokenizer) == vocab + 1  # added as a new special token
    assert llm.get_input_embeddings().weight.shape[0] == vocab + 1
    assert torch.count_nonzero(llm.get_input_embeddings().weight[vocab:]) == 0


@pytest.mark.parametrize("backbone", ["llama", "qwen2"])
def test_global_layout(smol_dir, backbone):
    model = make_model(smol_dir, backbone, injection="global")
    s = speech(QUESTION)
    before, after, _, _ = model.builder.template(None)
    text_ids = model.tokenizer.encode(QUESTION.strip(), add_special_tokens=False)
    batch = model.builder.build_generation_batch([s])
    ids = batch["input_ids"][0]
    assert len(ids) == len(before) + 1 + len(text_ids) + len(after)
    assert (ids == model.placeholder_id).nonzero().flatten().tolist() == [len(before)]
    assert ids[len(before) + 1:len(before) + 1 + len(text_ids)].tolist() == text_ids

    embeds = model.embed(batch["input_ids"], batch["prosody_vectors"], batch["prosody_mask"])[0]
    expected = model.projector(torch.from_numpy(s.utterance))
    torch.testing.assert_close(embeds[len(before)], expected, rtol=0, atol=0)
    others = torch.arange(len(ids)) != len(before)
    assert torch.equal(embeds[others], model.llm.get_input_embeddings()(ids)[others])


@pytest.mark.parametrize("backbone,ratio", [("llama", 5), ("llama", 1), ("qwen2", 3)])
def test_interleave_layout(smol_dir, backbone, ratio):
    model = make_model(smol_dir, backbone, injection="interleave", interleave_ratio=ratio)
    s = speech(QUESTION, n=11)
    instruction = "What emotion does the speaker convey?"
    before, after, _, _ = model.builder.template(instruction)
    text_ids = model.tokenizer.encode(QUESTION.strip(), add_special_tokens=False)
    groups = math.ceil(len(text_ids) / ratio)
    batch = model.builder.build_generation_batch([(s, instruction)])
    ids = batch["input_ids"][0]
    assert len(ids) == len(before) + groups + len(text_ids) + len(after)
    positions = (ids == model.placeholder_id).nonzero().flatten().tolist()
    assert positions == [len(before) + j * (ratio + 1) for j in range(groups)]
    speech_ids = ids[len(before):len(before) + groups + len(text_ids)]
    assert speech_ids[speech_ids != model.placeholder_id].tolist() == text_ids  # transcript intact, in order
    assert batch["prosody_vectors"].shape == (1, groups, D_WHISPER)
    assert model.tokenizer.decode(ids[-len(after):]).startswith("\n" + instruction)

    embeds = model.embed(batch["input_ids"], batch["prosody_vectors"], batch["prosody_mask"])[0]
    expected = model.projector(torch.from_numpy(s.grouped(groups)))  # (M, d_llm)
    torch.testing.assert_close(embeds[positions], expected, rtol=0, atol=0)


def test_interleave_empty_transcript_keeps_one_vector(smol_dir):
    model = make_model(smol_dir, injection="interleave")
    batch = model.builder.build_generation_batch([speech("", n=0)])
    assert (batch["input_ids"] == model.placeholder_id).sum() == 1 and batch["prosody_mask"].sum() == 1


@pytest.mark.parametrize("backbone", ["llama", "qwen2"])
def test_labels_masked_to_response(smol_dir, backbone):
    model = make_model(smol_dir, backbone, injection="interleave")
    examples = [(speech(QUESTION), None, "Because of Rayleigh scattering."),
                (speech(" Hello there.", n=3, seed=1), "What emotion does the speaker convey?", "Happy.")]
    batch = model.builder.build_training_batch(examples)
    assert batch["input_ids"].shape == batch["labels"].shape
    assert batch["attention_mask"][1, -1] == 0  # right padding: the short row ends in padding
    for row, (_, _, response) in enumerate(examples):
        labels = batch["labels"][row]
        kept = labels != IGNORE_INDEX
        assert model.tokenizer.decode(labels[kept]) == response + "<|im_end|>"
        start = kept.nonzero().min()
        assert kept[start:].sum() == kept.sum()  # one contiguous span...
        assert torch.equal(labels[kept], batch["input_ids"][row][kept])  # ...of the input's own answer tokens
        assert not kept[batch["attention_mask"][row] == 0].any()  # never padding
    # the loss is the mean CE over exactly those tokens
    out = model(**batch)
    logits, labels = out.logits[:, :-1], batch["labels"][:, 1:]
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
    torch.testing.assert_close(out.loss, expected)
    # the functional collate (cached feature records as input) builds the same batch
    features = [({"text": s.text, "prosody": s.prosody}, i, r) for s, i, r in examples]
    again = build_training_batch(features, model.tokenizer, model.config)
    assert all(torch.equal(batch[k], again[k]) for k in batch)


def test_too_long_prompt_raises_and_response_truncates(smol_dir):
    from textpro.errors import TextproError

    model = make_model(smol_dir)
    example = model.builder.example(speech(QUESTION), None, "A long answer " * 20, max_length=64)
    assert len(example.input_ids) == 64 and example.labels[-1] != IGNORE_INDEX
    with pytest.raises(TextproError, match="max_length"):
        model.builder.example(speech(QUESTION), None, "x", max_length=10)


def test_placeholder_count_mismatch_raises(smol_dir):
    model = make_model(smol_dir, injection="interleave")
    batch = model.builder.build_generation_batch([speech(QUESTION)])
    with pytest.raises(ValueError, match="placeholders per row"):
        model.embed(batch["input_ids"], batch["prosody_vectors"][:, :1], batch["prosody_mask"][:, :1])


def train_step(model, batch, lr=1e-2):
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    loss = model(**batch).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return model.eval()


def training_batch(model):
    return model.builder.build_training_batch([(speech(QUESTION), None, "Rayleigh scattering."),
                                               (speech(" Hi.", 2, 1), "Who is speaking?", "A woman.")])


@pytest.mark.parametrize("backbone", ["llama", "qwen2"])
def test_stage1_trains_only_the_projector(smol_dir, backbone):
    model = make_model(smol_dir, backbone, projector_init="mean_embedding").prepare_stage(1)
    llm_before = {k: v.clone() for k, v in model.llm.state_dict().items()}
    projector_before = {k: v.clone()  # buffers too: a non-persistent one is not in the state dict
                        for k, v in [*model.projector.named_parameters(), *model.projector.named_buffers()]}
    train_step(model, training_batch(model))
    assert all(torch.equal(v, llm_before[k]) for k, v in model.llm.state_dict().items())
    parameters = dict(model.projector.named_parameters())  # the input standardisation buffers are fitted, not trained
    assert all(not torch.equal(v, projector_before[k]) for k, v in parameters.items())
    assert all(torch.equal(b, projector_before[k]) for k, b in model.projector.named_buffers())


def test_stage2_trainable_sets(smol_dir):
    full = make_model(smol_dir).prepare_stage(1).prepare_stage(2)
    assert all(p.requires_grad for p in full.parameters())
    lora = make_model(smol_dir).prepare_stage(2, lora=True)
    names = {n for n, p in lora.named_parameters() if p.requires_grad}
    assert names and all("lora_" in n or n.startswith("projector.") for n in names)
    assert any(n.startswith("projector.") for n in names) and any("q_proj" in n for n in names)


def logits_of(model, batch):
    with torch.no_grad():
        return model(**{k: v for k, v in batch.items() if k != "labels"}).logits


@pytest.mark.parametrize("backbone", ["llama", "qwen2"])
def test_full_finetune_save_load_identical(smol_dir, backbone, tmp_path):
    model = make_model(smol_dir, backbone, injection="interleave").prepare_stage(2)
    batch = training_batch(model)
    train_step(model, batch)
    model.save_pretrained(tmp_path / "ckpt")
    assert (tmp_path / "ckpt" / "model.safetensors").is_file()
    assert (tmp_path / "ckpt" / "projector.safetensors").is_file()
    assert not list((tmp_path / "ckpt").glob("*.bin")) and not list((tmp_path / "ckpt").glob("*.pt"))
    loaded = TextProSLM.from_pretrained(tmp_path / "ckpt")
    assert loaded.config == model.config and not loaded.training
    assert torch.equal(logits_of(loaded, batch), logits_of(model, batch))


def test_stage1_checkpoint_holds_no_copy_of_the_frozen_base(smol_dir, tmp_path):
    llm, tokenizer = tiny_llama(smol_dir)
    base_dir = tmp_path / "base"  # what config.base_llm names; <|prosody|> is a new token: a zero embedding row
    llm.save_pretrained(base_dir)
    tokenizer.save_pretrained(base_dir)
    config = TextProSLMConfig(base_llm=str(base_dir), d_whisper=D_WHISPER, placeholder_token="<|prosody|>",
                              projector_init="default")
    model = TextProSLM.from_base(config).prepare_stage(1)  # the LLM loaded from base_llm, then frozen
    batch = training_batch(model)
    train_step(model, batch)
    model.save_pretrained(tmp_path / "ckpt")
    files = {p.name for p in (tmp_path / "ckpt").iterdir()}
    assert "projector.safetensors" in files and not {"model.safetensors", "config.json"} & files
    loaded = TextProSLM.from_pretrained(tmp_path / "ckpt")
    assert torch.equal(logits_of(loaded, batch), logits_of(model.eval(), batch))
    # an LLM that may have been changed (not frozen) is always saved, even when it came from base_llm
    unfrozen = TextProSLM.from_base(config)
    unfrozen.save_pretrained(tmp_path / "full")
    assert (tmp_path / "full" / "model.safetensors").is_file()
    assert TextProSLM.from_pretrained(tmp_path / "full").config.llm_in_checkpoint


@pytest.mark.parametrize("backbone,placeholder", [("llama", "<|prosody|>"), ("qwen2", None)])
def test_lora_save_load_identical(smol_dir, backbone, placeholder, tmp_path):
    llm, tokenizer = BACKBONES[backbone](smol_dir)
    base_dir = tmp_path / "base"  # the base LLM as a local HF directory: what config.base_llm names
    llm.save_pretrained(base_dir)
    tokenizer.save_pretrained(base_dir)
    config = TextProSLMConfig(base_llm=str(base_dir), d_whisper=D_WHISPER, placeholder_token=placeholder,
                              projector_init="default")
    model = TextProSLM.from_base(config, llm=llm, tokenizer=tokenizer).prepare_stage(2, lora=True)
    batch = training_batch(model)
    before = logits_of(model.eval(), batch)
    train_step(model, batch)
    after = logits_of(model, batch)
    assert not torch.equal(before, after)  # the adapter did change the model

    model.save_pretrained(tmp_path / "ckpt")
    files = {p.name for p in (tmp_path / "ckpt").iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json", "projector.safetensors",
            "textpro_config.json"} <= files
    assert "model.safetensors" not in files  # only the adapter, not the LLM
    loaded = TextProSLM.from_pretrained(tmp_path / "ckpt")
    assert loaded.is_lora and loaded.placeholder_id == model.placeholder_id
    assert torch.equal(logits_of(loaded, batch), after)
    assert loaded.generate([speech(QUESTION)], max_new_tokens=3) == model.generate([speech(QUESTION)], max_new_tokens=3)


@pytest.mark.parametrize("backbone,injection", [("llama", "interleave"), ("qwen2", "global")])
def test_batched_greedy_generation_equals_single(smol_dir, backbone, injection):
    model = make_model(smol_dir, backbone, injection=injection)
    requests = [(speech(QUESTION, 11, 0), None),
                (speech(" Hi.", 2, 1), "What emotion does the speaker convey?"),
                (speech(" The cat sat on the mat and looked at me.", 6, 2), "Repeat it.")]
    batched = model.generate_ids(requests, max_new_tokens=6, min_new_tokens=6)  # (3, 6)
    single = torch.cat([model.generate_ids([r], max_new_tokens=6, min_new_tokens=6) for r in requests])
    assert batched.shape == (3, 6) and torch.equal(batched, single)
    assert len(set(single.flatten().tolist())) > 3  # a real sequence, not one token repeated
    assert model.generate(requests, max_new_tokens=6, min_new_tokens=6) == [
        text.strip() for text in model.tokenizer.batch_decode(single, skip_special_tokens=True)]


def test_streaming_and_sampling(smol_dir):
    model = make_model(smol_dir)
    pieces = []
    text = model.generate([speech(QUESTION)], max_new_tokens=6, min_new_tokens=6, on_text=pieces.append)[0]
    assert pieces and "".join(pieces).strip() == text
    torch.manual_seed(1)
    a = model.generate([speech(QUESTION)], max_new_tokens=6, do_sample=True, temperature=0.8, top_p=0.9)
    torch.manual_seed(1)
    assert model.generate([speech(QUESTION)], max_new_tokens=6, do_sample=True, temperature=0.8, top_p=0.9) == a
    with pytest.raises(ValueError, match="single request"):
        model.generate([speech(QUESTION)] * 2, on_text=print)


def test_config_validation_and_json_roundtrip(tmp_path):
    with pytest.raises(ConfigError, match="injection"):
        TextProSLMConfig(injection="sideways")
    with pytest.raises(ConfigError, match="projector_init"):
        TextProSLMConfig(projector_init="xavier")
    with pytest.raises(ConfigError, match="interleave_ratio"):
        TextProSLMConfig(interleave_ratio=0)
    with pytest.raises(ConfigError, match="unknown"):
        TextProSLMConfig.from_dict({"injection": "global", "colour": "blue"})
    config = TextProSLMConfig(injection="interleave", interleave_ratio=3, placeholder_token="<|repo_name|>")
    config.save(tmp_path)
    assert TextProSLMConfig.load(tmp_path) == config
    with pytest.raises(ConfigError):
        TextProSLMConfig.load(tmp_path / "missing")


@pytest.mark.slow
def test_real_smollm2_answers_through_an_untrained_projector():
    """Global mode, untrained projector (default init: the mean token embedding at the placeholder): the text path
    is intact, the model answers the transcript."""
    model = TextProSLM.from_base(TextProSLMConfig()).eval()  # SmolLM2-135M-Instruct, d_whisper 384
    prosody = np.random.default_rng(0).standard_normal((7, 384)).astype(np.float32)
    s = SpeechTokens(" What is the capital of France?", [], np.zeros(7), np.zeros(7), prosody, prosody.mean(0), 1.5)
    assert "Paris" in model.generate([s], max_new_tokens=24)[0]
