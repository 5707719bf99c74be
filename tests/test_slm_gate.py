"""The adapter gate (textpro.slm.gate): a per-turn router that scales the LoRA adapter, fitted on the kind of each turn.

Tiny random Llama (hidden 64, 2 layers) on the real SmolLM2 tokenizer, as tests/test_slm.py; its LoRA adapter gets
random lora_B weights (peft starts them at zero) so that switching it on or off changes the answers.
"""

import pytest
import torch

from tests.test_slm import D_WHISPER, QUESTION, logits_of, make_model, speech, tiny_llama, training_batch
from textpro.errors import ConfigError, ModelError
from textpro.slm import TextProSLM, TextProSLMConfig
from textpro.slm.gate import GATE_NAME, AdapterGate

VOICE = ["Is the speaker male or female?", "How fast is the speaker talking?", "Describe the voice's pitch."]
CONTENT = [" What is the capital of France?", " How do I boil an egg?", " Name three colours of the rainbow."]


@pytest.fixture(scope="module")
def smol_dir():
    from textpro.hub import resolve_model

    return resolve_model("smollm2-135m-instruct")


def lora_model(smol_dir, llm=None, tokenizer=None, **config) -> TextProSLM:
    if llm is None:
        llm, tokenizer = tiny_llama(smol_dir)
    config = TextProSLMConfig(d_whisper=D_WHISPER, projector_init="default", **config)
    model = TextProSLM.from_base(config, llm=llm, tokenizer=tokenizer).prepare_stage(2, lora=True)
    generator = torch.Generator().manual_seed(1)
    for name, parameter in model.llm.named_parameters():
        if "lora_B" in name:
            parameter.data = torch.randn(parameter.shape, generator=generator) * 0.5
    return model.eval()


def turns(model):
    """(speech, instruction) of three voice questions and three spoken content questions, and their kind."""
    requests = [(speech(" It is a fine day.", 5, i), q) for i, q in enumerate(VOICE)]
    requests += [(speech(text, 6, 10 + i), None) for i, text in enumerate(CONTENT)]
    return requests, torch.tensor([1.0] * len(VOICE) + [0.0] * len(CONTENT))


def fitted_gate(model) -> AdapterGate:
    requests, kinds = turns(model)
    gate = AdapterGate(model.llm.get_input_embeddings().embedding_dim, layer=1)
    batch = model.builder.build_generation_batch(requests)
    gate.fit(gate.features(model.llm, batch["input_ids"], batch["attention_mask"].bool(), model.placeholder_id), kinds)
    return gate


def test_an_open_gate_is_the_adapter_and_a_closed_one_the_text_llm(smol_dir):
    reference = lora_model(smol_dir)  # the same weights, no gate
    model = lora_model(smol_dir)
    model.set_gate(AdapterGate(64, layer=1))
    batch = {k: v for k, v in training_batch(model).items() if k != "labels"}
    model.gate.bias.data.fill_(30.0)
    torch.testing.assert_close(logits_of(model, batch), logits_of(reference, batch))
    model.gate.bias.data.fill_(-30.0)
    closed = logits_of(model, batch)
    with model.llm.disable_adapter():
        torch.testing.assert_close(closed, logits_of(model, batch))
    assert not torch.allclose(closed, logits_of(reference, batch), atol=1e-3)  # the adapter does matter here


def test_fitted_router_opens_on_voice_questions_and_closes_on_content(smol_dir):
    model = lora_model(smol_dir)
    gate = fitted_gate(model)
    requests, kinds = turns(model)
    batch = model.builder.build_generation_batch(requests)
    values = gate(gate.features(model.llm, batch["input_ids"], batch["attention_mask"].bool(), model.placeholder_id))
    assert (values[kinds > 0] > 0.9).all() and (values[kinds == 0] < 0.1).all()
    with pytest.raises(ValueError, match="both kinds"):
        gate.fit(torch.randn(4, 128), torch.ones(4))


def test_each_row_gets_its_own_share_in_a_batch_and_in_generation(smol_dir):
    reference = lora_model(smol_dir)
    model = lora_model(smol_dir).set_gate(fitted_gate(lora_model(smol_dir)))
    voice, content = (speech(" It is a fine day.", 5, 0), VOICE[0]), (speech(CONTENT[0], 6, 10), None)
    together = model.generate_ids([voice, content], max_new_tokens=5, min_new_tokens=5)
    assert model.gate.values[0] > 0.9 and model.gate.values[1] < 0.1
    open_alone = reference.generate_ids([voice], max_new_tokens=5, min_new_tokens=5)
    with reference.llm.disable_adapter():
        closed_alone = reference.generate_ids([content], max_new_tokens=5, min_new_tokens=5)
    # the gate is a sigmoid, not a switch: ~1e-3 of the adapter either way may not move a greedy token here
    assert torch.equal(together[0], open_alone[0]) and torch.equal(together[1], closed_alone[0])


def test_the_gate_reads_the_prompt_not_the_voice_or_the_response(smol_dir):
    model = lora_model(smol_dir).set_gate(AdapterGate(64, layer=1))
    model.gate.weight.data.normal_(0, 1.0)  # any router: the point is what it reads
    train = training_batch(model)  # labelled responses, right padding
    model(**train)
    from_training = model.gate.values.clone()
    generation = model.builder.build_generation_batch([(speech(QUESTION), None), (speech(" Hi.", 2, 1),
                                                                                  "Who is speaking?")])
    model.route(generation["input_ids"], generation["attention_mask"].bool())
    torch.testing.assert_close(from_training, model.gate.values, atol=1e-5, rtol=1e-5)
    other_voice = {**train, "prosody_vectors": torch.randn_like(train["prosody_vectors"])}
    model(**other_voice)
    torch.testing.assert_close(from_training, model.gate.values)
    assert not torch.allclose(from_training[0], from_training[1])  # two different turns, two different gates


def test_a_closed_turn_does_not_train_the_adapter(smol_dir):
    model = lora_model(smol_dir).set_gate(AdapterGate(64, layer=1)).train()
    for bias, moves in ((-40.0, False), (40.0, True)):
        model.gate.bias.data.fill_(bias)
        model.zero_grad()
        model(**training_batch(model)).loss.backward()
        grads = [p.grad for n, p in model.named_parameters() if "lora_" in n]
        assert any(g is not None and g.abs().max() > 1e-6 for g in grads) == moves
        assert model.gate.weight.grad is None  # the router is fitted, never trained by the LLM's loss


def test_save_load_keeps_the_gate_and_refuses_to_merge(smol_dir, tmp_path):
    llm, tokenizer = tiny_llama(smol_dir)
    llm.save_pretrained(tmp_path / "base")
    tokenizer.save_pretrained(tmp_path / "base")
    model = lora_model(smol_dir, llm, tokenizer, base_llm=str(tmp_path / "base"))
    model.set_gate(fitted_gate(model))
    model.save_pretrained(tmp_path / "ckpt")
    assert (tmp_path / "ckpt" / GATE_NAME).is_file()
    loaded = TextProSLM.from_pretrained(tmp_path / "ckpt")
    assert loaded.gate is not None and loaded.gate.layer == 1
    requests, _ = turns(model)
    assert loaded.generate(requests, max_new_tokens=4) == model.generate(requests, max_new_tokens=4)
    with pytest.raises(ModelError, match="cannot be folded"):
        loaded.merge_lora()
    with pytest.raises(ModelError, match="already has"):
        loaded.set_gate(AdapterGate(64, layer=1))
    with pytest.raises(ModelError, match="no.*LoRA|has none"):
        make_model(smol_dir).set_gate(AdapterGate(64, layer=1))


def test_training_config_checks_the_gate_setting():
    from textpro.slm.training import SLMTrainingConfig

    with pytest.raises(ConfigError, match="adapter_gate_layer"):
        SLMTrainingConfig(stage=2, lora=False, adapter_gate_layer=15)
    with pytest.raises(ConfigError, match="adapter_gate_layer"):
        SLMTrainingConfig(stage=2, lora=True, adapter_gate_layer=-1)
    assert SLMTrainingConfig(stage=2, lora=True, adapter_gate_layer=15).adapter_gate_layer == 15


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_the_routers_pass_stops_at_its_layer_with_the_same_states(smol_dir, layer):
    from textpro.slm.gate import hidden_states_at

    model = lora_model(smol_dir)
    batch = model.builder.build_generation_batch([(speech(QUESTION), None), (speech(" Hi.", 2, 1), VOICE[0])])
    ids, mask = batch["input_ids"], batch["attention_mask"]
    with torch.no_grad(), model.llm.disable_adapter():
        full = model.llm(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[layer]
        torch.testing.assert_close(hidden_states_at(model.llm, ids, mask, layer), full, rtol=0, atol=0)


def test_int8_quantizes_a_gated_model_around_its_unmerged_adapter(smol_dir):
    from types import SimpleNamespace

    from textpro.int8 import is_int8, quantize_int8

    model = lora_model(smol_dir).set_gate(fitted_gate(lora_model(smol_dir)))
    requests, _ = turns(model)
    batch = model.builder.build_generation_batch(requests)
    mask = batch["attention_mask"].bool()
    model.route(batch["input_ids"], mask)
    fp32_gates = model.gate.values.clone()
    pipeline = SimpleNamespace(slm=model, transcriber=SimpleNamespace(model=SimpleNamespace(device=model.device)))
    counts = quantize_int8(pipeline, parts=("llm",))
    assert counts["llm"] > 0 and is_int8(model.llm)
    factors = [m for name, m in model.llm.named_modules() if name.split(".")[-2:-1] in (["lora_A"], ["lora_B"])]
    assert factors and all(type(m) is torch.nn.Linear for m in factors)  # float32, the gate's hooks still on lora_B
    model.route(batch["input_ids"], mask)  # the router reads the quantized LLM's states: the same decisions
    torch.testing.assert_close(model.gate.values, fp32_gates, atol=0.05, rtol=0)
    model.gate.bias.data.fill_(30.0)
    opened = logits_of(model, batch)
    model.gate.bias.data.fill_(-30.0)
    closed = logits_of(model, batch)
    with model.llm.disable_adapter():
        torch.testing.assert_close(closed, logits_of(model, batch))
    assert not torch.allclose(opened, closed, atol=1e-3)  # the adapter still acts, per turn
