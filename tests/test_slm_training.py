"""TextPro-SLM training (`textpro train slm`): stage 1 freezes the LLM, stage 2 LoRA trains and saves, resume ==
uninterrupted, KD term, 2 CPU processes (gloo), the paper configs on same-architecture tiny models, and (slow) the
whole CLI path on real whisper-tiny.en + SmolLM2-135M: make clips → featurize → distill → stage 1 → stage 2 → chat."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file

from tests.test_featurize import tiny_transcriber, write_manifest
from tests.test_slm import QWEN25_TEMPLATE
from textpro.errors import ConfigError
from textpro.slm import TextProSLM
from textpro.slm.featurize import FeatureStore, featurize
from textpro.slm.training import SLMTrainingConfig, build, predicting, run
from textpro.train import config_to_dict

CONFIGS = Path(__file__).resolve().parent.parent / "configs"

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def features(tmp_path_factory, whisper_tiny_en_dir) -> Path:
    """Six clips (four gender-task records, two questions) through a tiny random WhisperPro (d 32)."""
    directory = tmp_path_factory.mktemp("features")
    manifest = write_manifest(directory / "clips")
    featurize(manifest, "tiny-random", directory / "train", progress=False,
              transcriber=tiny_transcriber(whisper_tiny_en_dir))
    rows = [{"id": "utt4", "response": "Paris."}, {"id": "utt5", "response": "A cat has four legs."}]
    (directory / "distill.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return directory


def save_tiny_llm(directory: Path, smollm2_dir, backbone: str = "llama") -> Path:
    """A tiny random Llama (SmolLM2 family) or Qwen2 saved as an HF directory with the SmolLM2 tokenizer."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    sizes = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                 num_key_value_heads=1, bos_token_id=1, eos_token_id=2, pad_token_id=2)
    torch.manual_seed(0)
    if backbone == "llama":
        llm = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), tie_word_embeddings=True, **sizes))
    else:
        tokenizer.chat_template = QWEN25_TEMPLATE
        tokenizer.add_tokens(["<|repo_name|>"], special_tokens=True)
        llm = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), tie_word_embeddings=False, **sizes))
    llm.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory, smollm2_dir) -> Path:
    return save_tiny_llm(tmp_path_factory.mktemp("tiny-llama"), smollm2_dir, "llama")


def stage_config(features: Path, base: Path, output: Path, stage: int = 1, **overrides) -> SLMTrainingConfig:
    train = dict(output_dir=str(output), max_steps=4, batch_size=2, micro_batch_size=1, learning_rate=1e-2,
                 warmup_steps=0, log_every=1, save_every=2, keep_last=2)
    train.update(overrides.pop("train", {}))
    slm = {"base_llm": str(base), "projector_init": "default", **overrides.pop("slm", {})}
    data = dict(stage=stage, slm=slm, features=[str(features / "train")], distill=str(features / "distill.jsonl"),
                train=train, **overrides)
    from textpro.train import config_from_dict

    return config_from_dict(SLMTrainingConfig, data)


def llm_state(slm) -> dict:
    return {k: v.detach().clone() for k, v in slm.llm.state_dict().items()}


# ---- stage 1 / stage 2 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("backbone", ["llama", "qwen2"])
def test_stage1_trains_the_projector_only(features, smollm2_dir, tmp_path, backbone):
    base = save_tiny_llm(tmp_path / "base", smollm2_dir, backbone)
    config = stage_config(features, base, tmp_path / "run")
    objective, dataset, _ = build(config)
    assert len(dataset) == 6  # 2 distillation + 4 gender examples
    before_llm = llm_state(objective.slm)
    before_projector = {k: v.clone() for k, v in objective.slm.projector.state_dict().items()}

    result = run(config)
    assert result.step == 4
    log = [json.loads(line) for line in open(tmp_path / "run" / "log.jsonl")]
    assert [r["step"] for r in log] == [1, 2, 3, 4] and all(np.isfinite(r["loss"]) for r in log)

    files = {p.name for p in result.model_dir.iterdir()}  # the frozen LLM is not copied: base_llm is reloaded
    assert "projector.safetensors" in files and not {"model.safetensors", "config.json"} & files
    trained = TextProSLM.from_pretrained(result.model_dir)
    assert trained.llm_is_base and not trained.config.llm_in_checkpoint
    assert trained.config.d_whisper == 32 and trained.config.whisperpro == "tiny-random"  # from the features
    for name, value in llm_state(trained).items():  # the LLM is exactly the base
        torch.testing.assert_close(value, before_llm[name], rtol=0, atol=0)
    changed = [not torch.equal(v, before_projector[k]) for k, v in trained.projector.named_parameters()]
    assert all(changed)
    # the input standardisation was fitted on the features before training (and saved with the projector)
    assert not torch.equal(trained.projector.input_std, torch.ones_like(trained.projector.input_std))
    torch.testing.assert_close(trained.projector.input_std, objective.slm.projector.input_std)
    # checkpoints carry the trainable weights only: the projector, not the frozen LLM
    saved = load_file(tmp_path / "run" / "checkpoints" / "step-00000004" / "model.safetensors")
    assert saved and all(k.startswith("slm.projector.") for k in saved)


def test_a_fixed_adapter_init_seed_gives_every_run_seed_one_starting_adapter(features, tiny_llama, tmp_path):
    """lora_settings.init_seed draws a fresh adapter's A factors whatever train.seed is (the run seed keeps the rest
    of its random stream), so that seeds of one run can be souped; without it each run seed draws its own."""
    from accelerate.utils import set_seed

    stage1 = run(stage_config(features, tiny_llama, tmp_path / "s1", train={"max_steps": 1}))

    def start(run_seed, init_seed=None):
        config = stage_config(features, tiny_llama, tmp_path / "s2", stage=2, init_from=str(stage1.model_dir),
                              lora=True, lora_settings={"init_seed": init_seed}, train={"seed": run_seed})
        set_seed(run_seed)  # as run_training does before build
        objective, _, _ = build(config)
        factors = {n: p.detach().clone() for n, p in objective.slm.llm.named_parameters() if "lora_A" in n}
        return factors, torch.rand(1)  # and the run's next random draw

    fixed0, draw0 = start(0, init_seed=7)
    fixed1, _ = start(1, init_seed=7)
    other0, other_draw0 = start(0, init_seed=8)
    own0, _ = start(0)
    own1, _ = start(1)
    assert fixed0 and all(torch.equal(fixed0[n], fixed1[n]) for n in fixed0)
    assert not any(torch.equal(own0[n], own1[n]) for n in own0)
    assert not any(torch.equal(fixed0[n], own0[n]) for n in fixed0)
    assert not any(torch.equal(fixed0[n], other0[n]) for n in fixed0)
    assert torch.equal(draw0, other_draw0)  # the run's own random stream does not depend on the init seed


def test_stage2_lora_trains_saves_and_reloads(features, tiny_llama, tmp_path):
    stage1 = run(stage_config(features, tiny_llama, tmp_path / "s1", train={"max_steps": 2}))
    config = stage_config(features, tiny_llama, tmp_path / "s2", stage=2, init_from=str(stage1.model_dir),
                          lora=True, train={"learning_rate": 5e-3})
    objective, _, _ = build(config)
    assert objective.slm.is_lora
    trainable = {n for n, p in objective.named_parameters() if p.requires_grad}
    assert any("lora_" in n for n in trainable) and any("projector" in n for n in trainable)
    assert not any("embed_tokens" in n or "mlp" in n for n in trainable)

    result = run(config)
    files = {p.name for p in result.model_dir.iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json", "projector.safetensors"} <= files
    assert "model.safetensors" not in files  # the adapter, not a copy of the LLM
    adapter = load_file(result.model_dir / "adapter_model.safetensors")
    assert any(k.endswith("lora_B.weight") and v.abs().sum() > 0 for k, v in adapter.items())

    # reload == the model in memory at the end of training
    trained = TextProSLM.from_pretrained(result.model_dir)
    again = TextProSLM.from_pretrained(result.model_dir)
    store = FeatureStore(features / "train")
    batch = trained.builder.build_training_batch([(store[0], "Is the speaker male or female?", "male")])
    with torch.no_grad():
        torch.testing.assert_close(trained(**batch).logits, again(**batch).logits)
        base = TextProSLM.from_pretrained(stage1.model_dir)
        assert not torch.allclose(trained(**batch).logits, base(**batch).logits)  # stage 2 changed the model
    assert trained.generate([(store[0], "Is the speaker male or female?")], max_new_tokens=3)


def test_stage2_freeze_projector_keeps_the_stage1_projector(features, tiny_llama, tmp_path):
    stage1 = run(stage_config(features, tiny_llama, tmp_path / "s1", train={"max_steps": 2}))
    config = stage_config(features, tiny_llama, tmp_path / "s2", stage=2, init_from=str(stage1.model_dir),
                          lora=True, freeze_projector=True, train={"max_steps": 2, "learning_rate": 5e-3})
    objective, _, _ = build(config)
    trainable = {n for n, p in objective.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)  # the adapter only
    result = run(config)
    before = load_file(stage1.model_dir / "projector.safetensors")
    after = load_file(result.model_dir / "projector.safetensors")
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    adapter = load_file(result.model_dir / "adapter_model.safetensors")
    assert any(k.endswith("lora_B.weight") and v.abs().sum() > 0 for k, v in adapter.items())  # the LLM side trained
    with pytest.raises(ConfigError, match="stage-2 setting"):
        stage_config(features, tiny_llama, tmp_path / "bad", stage=1, freeze_projector=True)


def test_stage2_freeze_adapter_trains_the_projector_only(features, tiny_llama, tmp_path):
    stage1 = run(stage_config(features, tiny_llama, tmp_path / "s1", train={"max_steps": 2}))
    with_adapter = run(stage_config(features, tiny_llama, tmp_path / "s2", stage=2, init_from=str(stage1.model_dir),
                                    lora=True, train={"max_steps": 2, "learning_rate": 5e-3}))
    config = stage_config(features, tiny_llama, tmp_path / "s3", stage=2, init_from=str(with_adapter.model_dir),
                          lora=True, freeze_adapter=True, train={"max_steps": 2, "learning_rate": 5e-3})
    objective, _, _ = build(config)
    trainable = {n for n, p in objective.named_parameters() if p.requires_grad}
    assert trainable and not any("lora_" in n for n in trainable) and all("projector" in n for n in trainable)
    result = run(config)
    for name in ("adapter_model.safetensors", "projector.safetensors"):
        before, after = load_file(with_adapter.model_dir / name), load_file(result.model_dir / name)
        assert before.keys() == after.keys()
        unchanged = all(torch.equal(before[k], after[k]) for k in before)
        assert unchanged == (name == "adapter_model.safetensors"), name  # the adapter kept, the projector trained
    with pytest.raises(ConfigError, match="freeze_adapter"):
        stage_config(features, tiny_llama, tmp_path / "bad", stage=2, init_from=str(stage1.model_dir),
                     lora=True, freeze_adapter=True, freeze_projector=True)
    with pytest.raises(ConfigError, match="no LoRA adapter"):
        build(stage_config(features, tiny_llama, tmp_path / "bad2", stage=2, init_from=str(stage1.model_dir),
                           lora=True, freeze_adapter=True))


def test_stage2_needs_init_from(features, tiny_llama, tmp_path):
    with pytest.raises(ConfigError, match="init_from"):
        build(stage_config(features, tiny_llama, tmp_path / "run", stage=2))
    with pytest.raises(ConfigError, match="stage-2 setting"):
        stage_config(features, tiny_llama, tmp_path / "run", stage=1, lora=True)


def test_resume_equals_uninterrupted(features, tiny_llama, tmp_path):
    stage1 = run(stage_config(features, tiny_llama, tmp_path / "s1", train={"max_steps": 2}))
    kwargs = dict(stage=2, init_from=str(stage1.model_dir), lora=True, train={"max_steps": 4})
    whole = run(stage_config(features, tiny_llama, tmp_path / "whole", **kwargs))
    interrupted = stage_config(features, tiny_llama, tmp_path / "parts", **kwargs)
    assert run(interrupted, stop_after=2).model_dir is None
    resumed = run(interrupted, resume=True)
    assert resumed.step == 4
    for name in ("adapter_model.safetensors", "projector.safetensors"):
        a, b = load_file(whole.model_dir / name), load_file(resumed.model_dir / name)
        for key in a:
            torch.testing.assert_close(a[key], b[key])
    with pytest.raises(ConfigError, match="already has checkpoints"):
        run(interrupted)


@pytest.mark.parametrize("stage,lora", [(1, False), (2, True), (2, False)])
def test_kd_term(features, tiny_llama, tmp_path, stage, lora):
    """α > 0: KL(teacher ‖ student) on the response tokens; the teacher is the untouched text LLM reading the same
    prompt without placeholders. With the student's LLM equal to the teacher's and the placeholder reading as a
    plain token, the logits differ only through the placeholder, so KL is small but positive and has gradients."""
    init = {}
    if stage == 2:
        init["init_from"] = str(run(stage_config(features, tiny_llama, tmp_path / "s1",
                                                 train={"max_steps": 1})).model_dir)
    config = stage_config(features, tiny_llama, tmp_path / "run", stage=stage, lora=lora, kd_alpha=0.5, **init)
    objective, dataset, collator = build(config)
    assert (objective.teacher is not None) == (stage == 2 and not lora)  # a frozen copy only for full fine-tune
    batch = collator([dataset[i] for i in range(3)])
    assert (batch["teacher_input_ids"] == objective.slm.placeholder_id).sum() == 0
    assert torch.equal((batch["labels"] != -100).sum(1), (batch["teacher_labels"] != -100).sum(1))
    out = objective(batch)
    assert out["kl"] >= 0 and torch.isfinite(out["loss"])
    torch.testing.assert_close(out["loss"], 0.5 * out["ce"] + 0.5 * out["kl"])
    out["loss"].backward()
    assert objective.slm.projector.linear_out.bias.grad.abs().sum() > 0


def test_base_kd_term_trains_the_projector_against_the_original_llm(features, tiny_llama, tmp_path):
    """base_kd β > 0: + β·KL(teacher ‖ the same input read with the LoRA adapter off). That term's gradient reaches the
    projector and no adapter weight; with a fresh adapter (lora_B = 0) the two KL terms are equal."""
    stage1 = run(stage_config(features, tiny_llama, tmp_path / "s1", train={"max_steps": 1}))
    config = stage_config(features, tiny_llama, tmp_path / "run", stage=2, lora=True, kd_alpha=0.5, base_kd=2.0,
                          init_from=str(stage1.model_dir))
    objective, dataset, collator = build(config)
    objective.eval()  # no dropout: the two losses below must be comparable
    assert objective.base_kd == 2.0
    batch = collator([dataset[i] for i in range(3)])
    assert batch["kd_row"].any()
    out = objective(batch)
    torch.testing.assert_close(out["kl_base"], out["kl"])  # the adapter is still the identity
    torch.testing.assert_close(out["loss"], 0.5 * out["ce"] + 0.5 * out["kl"] + 2.0 * out["kl_base"])
    with torch.no_grad():  # a trained adapter: the original weights now answer differently
        for name, p in objective.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    with_base = objective(batch)
    assert with_base["kl_base"] != with_base["kl"]
    objective.base_kd = 0.0
    without = objective(batch)
    assert "kl_base" not in without
    (with_base["loss"] - without["loss"]).backward()  # the base term's gradient alone
    assert objective.slm.projector.linear_out.weight.grad.abs().sum() > 0
    lora = [p.grad for n, p in objective.named_parameters() if "lora_" in n]
    assert lora and all(g is None or g.abs().sum() == 0 for g in lora)
    with pytest.raises(ConfigError, match="base_kd"):
        stage_config(features, tiny_llama, tmp_path / "bad", stage=2, lora=True, kd_alpha=0.0, base_kd=1.0,
                     init_from=str(stage1.model_dir))
    with pytest.raises(ConfigError, match="base_kd"):
        stage_config(features, tiny_llama, tmp_path / "bad", kd_alpha=0.5, base_kd=1.0)


@pytest.mark.parametrize("ce_average", ["token", "example"])
def test_losses_read_only_the_response_logits_and_equal_the_full_logits_ones(features, tiny_llama, tmp_path,
                                                                            ce_average):
    """The objective asks the LLM for logits only where a response token is predicted; its loss (CE, KL, adapter-off
    KL) and gradients equal the same loss computed from every position's logits (`benchmarks/slm_step.py`'s
    reference, the pre-session-28 way)."""
    from benchmarks.slm_step import full_logits_loss
    from textpro.train.kind import IGNORE_INDEX

    stage1 = run(stage_config(features, tiny_llama, tmp_path / "s1", train={"max_steps": 1}))
    config = stage_config(features, tiny_llama, tmp_path / "run", stage=2, lora=True, kd_alpha=0.5, base_kd=2.0,
                          init_from=str(stage1.model_dir), ce_average=ce_average)
    objective, dataset, collator = build(config)
    objective.eval()  # no dropout
    with torch.no_grad():  # a trained adapter, so that the adapter-off term differs
        for name, p in objective.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    batch = collator([dataset[i] for i in range(3)])
    assert batch["kd_row"].all() and (batch["labels"] == IGNORE_INDEX).any()  # prompt positions to skip
    out, expected = objective(batch), full_logits_loss(objective, batch)
    assert out["kl"] > 0 and out["kl_base"] > 0 and out["kl_base"] != out["kl"]
    torch.testing.assert_close(out["loss"], expected)
    parameters = [p for p in objective.parameters() if p.requires_grad]
    got, want = torch.autograd.grad(out["loss"], parameters), torch.autograd.grad(expected, parameters)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b)


def test_kd_rows_distill_reads_only_content_rows(features, tiny_llama, tmp_path):
    """kd_rows: distill: the KL term skips paralinguistic rows (a teacher that cannot hear would pull the label
    towards its guess); with no content row in a batch it is exactly 0, and the teacher does not run."""
    config = stage_config(features, tiny_llama, tmp_path / "run", kd_alpha=0.5, kd_rows="distill")
    objective, dataset, collator = build(config)
    objective.eval()  # no dropout: the two KL values below must be comparable
    kinds = [dataset.examples[i].kind for i in range(len(dataset))]
    para = [i for i, k in enumerate(kinds) if k != "distill"]
    content = [i for i, k in enumerate(kinds) if k == "distill"]
    assert para and content
    only_para = collator([dataset[i] for i in para[:2]])
    assert not only_para["kd_row"].any()
    assert objective(only_para)["kl"] == 0
    mixed = collator([dataset[i] for i in para[:1] + content[:1]])
    assert mixed["kd_row"].tolist() == [False, True]
    kl_mixed = objective(mixed)["kl"]
    kl_content = objective(collator([dataset[content[0]]]))["kl"]
    torch.testing.assert_close(kl_mixed, kl_content)  # the paralinguistic row adds nothing
    with pytest.raises(ConfigError, match="kd_rows"):
        stage_config(features, tiny_llama, tmp_path / "bad", kd_alpha=0.5, kd_rows="some")


def test_neutral_content_rows_read_the_projectors_training_mean(features, tiny_llama, tmp_path):
    """neutral_content: that share of the content rows (drawn per row by the seed) hears the training-mean voice, the
    prosody-neutral diagnostic's input; paralinguistic rows keep their own."""
    config = stage_config(features, tiny_llama, tmp_path / "run", neutral_content=1.0)
    objective, dataset, collator = build(config)
    objective.eval()
    content = [i for i in range(len(dataset)) if dataset.examples[i].kind == "distill"]
    para = [i for i in range(len(dataset)) if dataset.examples[i].kind != "distill"]
    batch = collator([dataset[i] for i in content[:1] + para[:1]])
    assert batch["neutral_row"].tolist() == [True, False]
    mean = objective.slm.projector.neutral_input()
    by_hand = batch["prosody_vectors"].clone()
    by_hand[0] = mean
    plain = {k: v for k, v in batch.items() if k != "neutral_row"}
    with torch.no_grad():
        assert torch.equal(objective(batch)["loss"], objective({**plain, "prosody_vectors": by_hand})["loss"])
        assert objective(batch)["loss"] != objective(plain)["loss"]  # (a new projector moves little: not by much)
    none = build(stage_config(features, tiny_llama, tmp_path / "none"))[1]
    assert not any(none[i]["neutral"] for i in range(len(none)))
    with pytest.raises(ConfigError, match="neutral_content"):
        stage_config(features, tiny_llama, tmp_path / "bad", neutral_content=1.5)


def test_content_acoustic_mean_rows_read_their_own_learned_vectors_with_the_acoustics_training_mean(
        features, tiny_llama, tmp_path):
    """content_acoustic_mean: that share of the content rows hears its own learned vectors with the acoustics at the
    projector's training mean (the point between a real voice and the mean voice that no other row reads); a
    neutral_content row still hears the whole mean, paralinguistic rows keep their own."""
    slm = {"acoustic_features": True}
    config = stage_config(features, tiny_llama, tmp_path / "run", slm=slm, content_acoustic_mean=1.0)
    objective, dataset, collator = build(config)
    objective.eval()
    projector = objective.slm.projector
    d, k = projector.d_whisper, projector.n_acoustic
    assert k > 0
    content = [i for i in range(len(dataset)) if dataset.examples[i].kind == "distill"]
    para = [i for i in range(len(dataset)) if dataset.examples[i].kind != "distill"]
    batch = collator([dataset[i] for i in content[:1] + para[:1]])
    assert batch["acoustic_mean_row"].tolist() == [True, False]
    by_hand = batch["prosody_vectors"].clone()
    assert not torch.equal(by_hand[0, :, d:d + k], projector.acoustic_mean.expand_as(by_hand[0, :, d:d + k]))
    by_hand[0, :, d:d + k] = projector.acoustic_mean
    plain = {key: v for key, v in batch.items() if key != "acoustic_mean_row"}
    with torch.no_grad():
        assert torch.equal(objective(batch)["loss"], objective({**plain, "prosody_vectors": by_hand})["loss"])
        assert objective(batch)["loss"] != objective(plain)["loss"]
    both = build(stage_config(features, tiny_llama, tmp_path / "both", slm=slm, content_acoustic_mean=1.0,
                              neutral_content=1.0))
    batch = both[2]([both[1][content[0]]])
    assert batch["acoustic_mean_row"].all() and batch["neutral_row"].all()
    mean = both[0].slm.projector.neutral_input().expand_as(batch["prosody_vectors"])
    plain = {key: v for key, v in batch.items() if key not in ("acoustic_mean_row", "neutral_row")}
    with torch.no_grad():  # the whole mean voice wins
        assert torch.equal(both[0].eval()(batch)["loss"], both[0]({**plain, "prosody_vectors": mean})["loss"])
    with pytest.raises(ConfigError, match="content_acoustic_mean"):
        stage_config(features, tiny_llama, tmp_path / "bad", content_acoustic_mean=-0.1)


def test_content_mean_pull_rows_hear_a_voice_part_of_the_way_to_the_training_mean(features, tiny_llama, tmp_path):
    """content_mean_pull: that share of the content rows hears its voice (both branches) moved its drawn fraction of
    the way to the projector's training mean; paralinguistic rows keep their own."""
    slm = {"acoustic_features": True}
    config = stage_config(features, tiny_llama, tmp_path / "run", slm=slm, content_mean_pull=1.0)
    objective, dataset, collator = build(config)
    objective.eval()
    content = [i for i in range(len(dataset)) if dataset.examples[i].kind == "distill"]
    para = [i for i in range(len(dataset)) if dataset.examples[i].kind != "distill"]
    batch = collator([dataset[i] for i in content[:1] + para[:1]])
    pull = float(batch["mean_pull"][0])
    assert 0 < pull < 1 and batch["mean_pull"][1] == 0
    by_hand = batch["prosody_vectors"].clone()
    by_hand[0] = (1 - pull) * by_hand[0] + pull * objective.slm.projector.neutral_input()
    plain = {k: v for k, v in batch.items() if k != "mean_pull"}
    with torch.no_grad():
        torch.testing.assert_close(objective(batch)["loss"], objective({**plain, "prosody_vectors": by_hand})["loss"])
        assert objective(batch)["loss"] != objective(plain)["loss"]
    with pytest.raises(ConfigError, match="content_mean_pull"):
        stage_config(features, tiny_llama, tmp_path / "bad", content_mean_pull=2.0)


def test_mean_voice_kl_pulls_the_content_answers_towards_the_mean_voice_ones(features, tiny_llama, tmp_path):
    """mean_voice_kl: δ·KL(the SLM at the training-mean voice ‖ the SLM as it heard the row) over the response tokens
    of the content rows that hear a voice; the mean-voice side is a target (no gradient), the term's gradient reaches
    the projector, and neutral or paralinguistic rows add nothing."""
    import torch.nn.functional as F

    config = stage_config(features, tiny_llama, tmp_path / "run", mean_voice_kl=2.0)
    objective, dataset, collator = build(config)
    objective.eval()
    content = [i for i in range(len(dataset)) if dataset.examples[i].kind == "distill"]
    para = [i for i in range(len(dataset)) if dataset.examples[i].kind != "distill"]
    with torch.no_grad():  # a projector whose output moves with the voice, so that the two sides differ
        objective.slm.projector.linear_out.weight.normal_(0, 0.5)
    batch = collator([dataset[i] for i in content[:1]])
    torch.manual_seed(0)  # the fixture's clips read nearly one vector: a voice of its own, away from their mean
    batch["prosody_vectors"] += 0.01 * torch.randn_like(batch["prosody_vectors"])
    out = objective(batch)
    keep = predicting(batch["labels"])
    with torch.no_grad():
        heard = objective.slm(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                              prosody_vectors=batch["prosody_vectors"], prosody_mask=batch["prosody_mask"],
                              logits_to_keep=keep).logits
        mean = objective.slm.projector.neutral_input().expand_as(batch["prosody_vectors"])
        at_mean = objective.slm(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                prosody_vectors=mean, prosody_mask=batch["prosody_mask"], logits_to_keep=keep).logits
    by_hand = F.kl_div(F.log_softmax(heard, -1), F.log_softmax(at_mean, -1), log_target=True, reduction="batchmean")
    assert out["kl_mean"] > 0
    torch.testing.assert_close(out["kl_mean"], by_hand)
    torch.testing.assert_close(out["loss"], out["ce"] + 2.0 * by_hand)
    objective.zero_grad()
    (out["loss"] - out["ce"]).backward()  # the consistency term's gradient alone
    assert objective.slm.projector.linear_out.weight.grad.abs().sum() > 0
    assert objective(collator([dataset[para[0]]]))["kl_mean"] == 0  # a paralinguistic row: no term
    neutral, neutral_data, neutral_collator = build(stage_config(features, tiny_llama, tmp_path / "neutral",
                                                                 mean_voice_kl=2.0, neutral_content=1.0))
    assert neutral(neutral_collator([neutral_data[content[0]]]))["kl_mean"] == 0  # it already hears the mean
    with pytest.raises(ConfigError, match="mean_voice_kl"):
        stage_config(features, tiny_llama, tmp_path / "bad", mean_voice_kl=-1.0)


def test_stage2_fits_an_adapter_gate_on_its_rows_and_saves_it(features, tiny_llama, tmp_path):
    """adapter_gate_layer: a model without a gate gets one, its router fitted on the run's own rows before the first
    step (paralinguistic rows open, content rows closed) and kept fixed; the trained model saves and reloads it."""
    stage1 = run(stage_config(features, tiny_llama, tmp_path / "s1", train={"max_steps": 2}))
    config = stage_config(features, tiny_llama, tmp_path / "s2", stage=2, init_from=str(stage1.model_dir),
                          lora=True, adapter_gate_layer=1, train={"max_steps": 2})
    objective, dataset, _ = build(config)
    gate = objective.slm.gate
    assert gate is not None and gate.layer == 1 and not any(p.requires_grad for p in gate.parameters())
    requests = [(dataset[i]["speech"], dataset[i]["instruction"]) for i in range(len(dataset))]
    batch = objective.slm.builder.build_generation_batch(requests)
    objective.slm.route(batch["input_ids"], batch["attention_mask"].bool())
    kinds = [dataset.examples[i].kind for i in range(len(dataset))]
    opened = [v for v, k in zip(gate.values.tolist(), kinds, strict=True) if k != "distill"]
    closed = [v for v, k in zip(gate.values.tolist(), kinds, strict=True) if k == "distill"]
    assert min(opened) > 0.5 > max(closed)
    before = gate.weight.detach().clone()
    result = run(config)
    trained = TextProSLM.from_pretrained(result.model_dir)
    assert trained.gate is not None
    torch.testing.assert_close(trained.gate.weight, before)  # fitted once, not trained by the LLM's loss


def test_on_policy_rows_train_the_kl_term_alone(features, tiny_llama, tmp_path):
    """on_policy: the student's own answers are content rows that only the KL term reads. A micro-batch of them has
    CE 0 and loss α·KL; beside a teacher row, the CE is that row's alone and the KL covers both."""
    rows = [{"id": "utt4", "response": "Paris is a city."}, {"id": "utt5", "response": "Four legs, and a tail."}]
    (tmp_path / "own.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = stage_config(features, tiny_llama, tmp_path / "run", kd_alpha=0.5, kd_rows="distill",
                          on_policy=str(tmp_path / "own.jsonl"))
    objective, dataset, collator = build(config)
    objective.eval()  # no dropout: the values below must be comparable
    own = [i for i, e in enumerate(dataset.examples) if not e.ce]
    teacher = [i for i, e in enumerate(dataset.examples) if e.kind == "distill" and e.ce]
    assert sorted(dataset.examples[i].response for i in own) == sorted(r["response"] for r in rows)
    only_own = collator([dataset[i] for i in own])
    assert not only_own["ce_row"].any() and only_own["kd_row"].all()
    out = objective(only_own)
    assert out["ce"] == 0 and out["kl"] > 0
    torch.testing.assert_close(out["loss"], 0.5 * out["kl"])
    out["loss"].backward()
    assert objective.slm.projector.linear_out.weight.grad.abs().sum() > 0
    mixed = objective(collator([dataset[teacher[0]], dataset[own[0]]]))
    alone = objective(collator([dataset[teacher[0]]]))
    torch.testing.assert_close(mixed["ce"], alone["ce"])  # the student's own words are no CE target
    assert mixed["kl"] != alone["kl"]  # the KL term reads both rows
    with pytest.raises(ConfigError, match="on_policy"):
        stage_config(features, tiny_llama, tmp_path / "bad", on_policy=str(tmp_path / "own.jsonl"))


def test_distill_student_writes_the_models_own_answers(features, tiny_llama, tmp_path, capsys):
    """`textpro distill FEATURES --student MODEL`: one line per record with the SLM's greedy answer to the clip (the
    on_policy rows), resumable; --student with --prompts is a one-line error."""
    from textpro.cli import main
    from textpro.slm.distill import student_answers
    from textpro.slm.tasks import distillation_examples

    model = run(stage_config(features, tiny_llama, tmp_path / "s1", train={"max_steps": 1})).model_dir
    out = tmp_path / "own.jsonl"
    assert main(["distill", str(features / "train"), "--student", str(model), "--out", str(out),
                 "--max-new-tokens", "4", "--batch-size", "4", "--quiet"]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    store = FeatureStore(features / "train")
    assert [r["id"] for r in lines] == [e["id"] for e in store.index]
    slm = TextProSLM.from_pretrained(model).eval()
    assert [r["response"] for r in lines] == slm.generate([store[i] for i in range(len(store))], max_new_tokens=4)
    assert {r["answered_by"] for r in lines} == {"student"}
    assert [r["question"] for r in lines] == [e["text"] for e in store.index]
    assert student_answers(features / "train", model, out, max_new_tokens=4, progress=False) == 0  # resumed
    # written prompts: each read as the transcript of a seeded clip, whose id the line keeps for training
    prompts = ["Tell me a joke.", "Name a colour.", "Why is the sky blue?"]
    written = tmp_path / "own-written.jsonl"
    assert student_answers(features / "train", model, written, max_new_tokens=4, progress=False, prompts=prompts,
                           seed=3) == 3
    lines = [json.loads(line) for line in written.read_text().splitlines()]
    where = {e["id"]: i for i, e in enumerate(store.index)}
    assert [r["question"] for r in lines] == prompts and all(r["clip"] in where for r in lines)
    heard = [{**store[where[r["clip"]]], "text": r["question"], "token_ids": []} for r in lines]
    assert [r["response"] for r in lines] == slm.generate(heard, max_new_tokens=4)
    examples = distillation_examples([store], written, ce=False)
    assert [(e.index, e.text, e.ce) for e in examples] == [(where[r["clip"]], r["question"], False) for r in lines]
    assert main(["distill", "--prompts", "written", "--student", str(model), "--out", str(tmp_path / "x.jsonl")]) != 0
    assert "textpro distill --student: give a feature cache directory" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()


# ---- configs ----------------------------------------------------------------------------------------------------

def test_mini_configs_load():
    one = SLMTrainingConfig.from_yaml(CONFIGS / "slm-mini-stage1.yaml", stage=1)
    hearing = SLMTrainingConfig.from_yaml(CONFIGS / "slm-mini-stage2-hearing.yaml")
    two = SLMTrainingConfig.from_yaml(CONFIGS / "slm-mini-stage2.yaml")
    assert one.stage == 1 and one.slm.base_llm == "smollm2-135m-instruct" and one.distill is None
    # stage 2's first phase: paralinguistic rows only, from stage 1; gender, pitch and rate read another clip's learned
    # vector, so they are heard from the acoustics; accent keeps its own (sessions 37-39)
    assert hearing.stage == 2 and hearing.lora and hearing.init_from == "runs/slm-mini-stage1/model"
    assert hearing.distill is None and list(hearing.branch_dropout) == [0.0, 0.0]
    assert all(hearing.task_learned_swap[task] == 1.0 for task in ("gender", "pitch", "rate"))
    assert hearing.task_learned_swap["accent"] == 0.0
    # the second continues that adapter (same modules) on the content mix, KL toward the text LLM on content rows
    assert two.stage == 2 and two.lora and two.init_from == "runs/slm-mini-stage2-hearing/model"
    assert two.lora_settings.target_modules == hearing.lora_settings.target_modules
    assert two.kd_alpha > 0 and two.kd_rows == "distill"
    assert two.learned_swap > 0.5  # and stage 2 keeps the swap on its paralinguistic rows
    # its content rows read another clip's learned vectors or measured acoustics: content hangs on neither (s40-41)
    assert two.prosody_swap > 0 and two.content_acoustic_swap > 0
    with pytest.raises(ConfigError, match="stage-1 config"):
        SLMTrainingConfig.from_yaml(CONFIGS / "slm-mini-stage1.yaml", stage=2)


# Qwen2.5 architectures (from their published config.json): hidden, intermediate, heads, kv heads, tied embeddings
QWEN25 = {"3b": (2048, 11008, 16, 2, True), "7b": (3584, 18944, 28, 4, False)}


@pytest.mark.parametrize("size", ["3b", "7b"])
def test_paper_configs_build_same_architecture_tiny_models(size, smollm2_dir):
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    from textpro.slm import TextProSLMConfig

    with pytest.raises(ConfigError, match="pass --stage"):
        SLMTrainingConfig.from_yaml(CONFIGS / f"paper-{size}.yaml")
    one = SLMTrainingConfig.from_yaml(CONFIGS / f"paper-{size}.yaml", stage=1)
    two = SLMTrainingConfig.from_yaml(CONFIGS / f"paper-{size}.yaml", stage=2)
    for config in (one, two):  # docs/method.md
        assert config.train.batch_size == 1024 and config.train.epochs == 2 and config.train.warmup_steps == 0
        assert config.train.mixed_precision == "bf16" and config.slm.injection == "global"
        assert config.slm.d_whisper == 1280 and config.slm.placeholder_token == "<|repo_name|>"
        assert config.kd_alpha == 0 and not config.lora
    assert one.train.learning_rate == 1e-4 and two.train.learning_rate == 1e-5
    assert one.distill is None and two.distill and two.init_from == f"runs/paper-{size}-stage1/model"

    # a tiny Qwen2 of the same shape ratios (÷32), the Qwen2.5 template and its <|repo_name|> marker
    hidden, intermediate, heads, kv, tied = QWEN25[size]
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    tokenizer.chat_template = QWEN25_TEMPLATE
    tokenizer.add_tokens(["<|repo_name|>"], special_tokens=True)
    llm = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), hidden_size=hidden // 32,
                                       intermediate_size=intermediate // 32, num_hidden_layers=2,
                                       num_attention_heads=heads, num_key_value_heads=kv, tie_word_embeddings=tied))
    slm_config = TextProSLMConfig(**{**two.slm.to_dict(), "d_whisper": two.slm.d_whisper // 32})
    model = TextProSLM.from_base(slm_config, llm=llm, tokenizer=tokenizer)
    assert model.config.placeholder_token == "<|repo_name|>" and len(tokenizer) == llm.config.vocab_size
    layers = [m for m in model.projector.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in layers] == [(1280 // 32, hidden // 32), (hidden // 32,) * 2]
    speech = {"text": "What is the capital of France?", "prosody": np.ones((7, 1280 // 32), np.float32)}
    batch = model.builder.build_training_batch([(speech, None, "Paris.")])
    assert torch.isfinite(model(**batch).loss)


# ---- several processes ------------------------------------------------------------------------------------------

def test_two_process_cpu_training_step(features, tiny_llama, tmp_path):
    """torchrun, 2 CPU processes (gloo): the stage-1 step through the CLI, the global batch split over both."""
    config = stage_config(features, tiny_llama, tmp_path / "run", train={"max_steps": 2, "save_every": 1})
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(config_to_dict(config)))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "textpro.cli", "train", "slm", "--stage", "1", "--config", str(config_file)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("trained 2 steps") == 1
    records = [json.loads(line) for line in open(tmp_path / "run" / "log.jsonl")]
    assert [r["step"] for r in records] == [1, 2] and all(np.isfinite(r["loss"]) for r in records)
    state = tmp_path / "run" / "checkpoints" / "step-00000002"
    assert {"random_states_0.pkl", "random_states_1.pkl"} <= {p.name for p in state.iterdir()}
    assert (tmp_path / "run" / "model" / "projector.safetensors").is_file()


def test_two_process_featurize(tmp_path, whisper_tiny_en_dir, features):
    """Each process writes its own shards (k mod 2); the main one writes the index: same records as one process."""
    manifest = features / "clips" / "train.jsonl"
    script = tmp_path / "featurize_tiny.py"
    script.write_text(
        "import sys, torch\n"
        "from tests.test_featurize import tiny_transcriber\n"
        "from textpro.slm.featurize import featurize\n"
        f"featurize({str(manifest)!r}, 'tiny-random', sys.argv[1], shard_size=2, progress=False,\n"
        f"          transcriber=tiny_transcriber({str(whisper_tiny_en_dir)!r}))\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(script), str(tmp_path / "f")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    two, one = FeatureStore(tmp_path / "f"), FeatureStore(features / "train")
    assert [r["id"] for r in two.index] == [r["id"] for r in one.index]
    for i in range(len(one)):
        assert two[i]["text"] == one[i]["text"]
        np.testing.assert_allclose(two[i]["prosody"], one[i]["prosody"], atol=1e-5)


# ---- the whole CLI path on real weights ---------------------------------------------------------------------------

@pytest.mark.slow
def test_end_to_end_cli_real_models(tmp_path, capsys):
    """synthesized manifest → featurize (real tiny.en) → distill (real SmolLM2) → stage 1 → stage 2 (LoRA) → chat."""
    from textpro.cli import main

    manifest = write_manifest(tmp_path / "clips")
    features = tmp_path / "features"
    assert main(["featurize", str(manifest), "--whisperpro", "whisper-tiny.en", "--out", str(features),
                 "--quiet"]) == 0
    assert "france" in FeatureStore(features)[4]["text"].lower()  # real tiny.en transcribes espeak speech
    distill = tmp_path / "distill.jsonl"
    assert main(["distill", str(features), "--teacher", "smollm2-135m-instruct", "--out", str(distill),
                 "--task", "semantic", "--max-new-tokens", "16", "--quiet"]) == 0
    assert all(json.loads(line)["response"] for line in open(distill))

    common = {"features": [str(features)], "distill": str(distill), "max_length": 256}
    train = {"batch_size": 2, "micro_batch_size": 2, "warmup_steps": 0, "log_every": 1, "save_every": 100}
    (tmp_path / "s1.yaml").write_text(yaml.safe_dump({
        **common, "stage": 1, "train": {**train, "max_steps": 2, "learning_rate": 1e-3}}))
    (tmp_path / "s2.yaml").write_text(yaml.safe_dump({
        **common, "stage": 2, "init_from": str(tmp_path / "s1" / "model"), "lora": True,
        "train": {**train, "max_steps": 2, "learning_rate": 1e-4}}))
    assert main(["train", "slm", "--stage", "1", "--config", str(tmp_path / "s1.yaml"),
                 "--output", str(tmp_path / "s1")]) == 0
    assert main(["train", "slm", "--stage", "2", "--config", str(tmp_path / "s2.yaml"),
                 "--output", str(tmp_path / "s2")]) == 0
    capsys.readouterr()
    assert main(["chat", str(manifest.parent / "clip4.wav"), "--model", str(tmp_path / "s2" / "model"),
                 "--max-new-tokens", "12"]) == 0
    out = capsys.readouterr().out
    transcript, answer = out.split("answer:", 1)
    assert "france" in transcript.lower() and len(answer.strip()) > 0


def test_chat_with_a_model_dir_that_is_not_one_is_one_line(tmp_path, capsys):
    import soundfile as sf

    from textpro.cli import main

    sf.write(tmp_path / "a.wav", (0.1 * np.sin(np.arange(8000) / 5)).astype(np.float32), 16000)
    assert main(["chat", str(tmp_path / "a.wav"), "--model", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a TextPro-SLM checkpoint" in err and err.count("\n") == 1
