"""`textpro soup`: the weighted average of seeds of one TextPro-SLM, refused for checkpoints that are not."""

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from textpro.cli import main
from textpro.errors import ConfigError, ModelError
from textpro.pipeline import DEFAULT_MODEL_DIR
from textpro.slm.soup import SOUP_NAME, make_soup


def _checkpoint(path, weight: float, step: int = 3, teacher: bytes = b"teacher weights", modules=("q", "v")):
    """A checkpoint directory as textpro exports one: config, projector, adapter, and the teacher it names."""
    (path / "teacher").mkdir(parents=True)
    (path / "teacher" / "adapter_model.safetensors").write_bytes(teacher)
    shutil.copy(DEFAULT_MODEL_DIR / "textpro_config.json", path)
    (path / "adapter_config.json").write_text(json.dumps({"r": 4, "target_modules": list(modules)}))
    save_file({"linear.weight": torch.full((2, 3), weight, dtype=torch.float16),
               "position": torch.tensor([step])}, path / "projector.safetensors")
    save_file({"lora_A": torch.full((4,), 2 * weight)}, path / "adapter_model.safetensors")
    return path


def test_the_soup_is_the_weighted_average_of_every_top_level_weight(tmp_path):
    a, b = _checkpoint(tmp_path / "a", 1.0), _checkpoint(tmp_path / "b", 3.0, modules=("v", "q"))  # peft's set order
    out = make_soup([a, b], tmp_path / "soup", weights=[0.25, 0.75])
    projector, adapter = load_file(out / "projector.safetensors"), load_file(out / "adapter_model.safetensors")
    assert projector["linear.weight"].dtype == torch.float16  # each tensor keeps its dtype
    assert torch.equal(projector["linear.weight"], torch.full((2, 3), 2.5, dtype=torch.float16))
    assert torch.equal(adapter["lora_A"], torch.full((4,), 5.0))
    assert torch.equal(projector["position"], torch.tensor([3]))  # equal integers pass through
    assert (out / "teacher" / "adapter_model.safetensors").read_bytes() == b"teacher weights"
    provenance = json.loads((out / SOUP_NAME).read_text())
    assert [i["weight"] for i in provenance["ingredients"]] == [0.25, 0.75]
    assert make_soup([a, b], tmp_path / "uniform") and torch.equal(  # no weights: uniform
        load_file(tmp_path / "uniform" / "adapter_model.safetensors")["lora_A"], torch.full((4,), 4.0))


def test_the_shipped_default_souped_with_itself_is_itself(tmp_path):
    out = make_soup([DEFAULT_MODEL_DIR, DEFAULT_MODEL_DIR], tmp_path / "soup")
    for name in ("adapter_model.safetensors", "projector.safetensors"):
        ours, shipped = load_file(out / name), load_file(DEFAULT_MODEL_DIR / name)
        assert ours.keys() == shipped.keys() and all(torch.equal(ours[k], shipped[k]) for k in ours), name
    assert (out / "whisperpro" / "config.json").is_file() and (out / "examples").is_dir()


def test_what_is_not_a_seed_of_the_same_model_is_refused(tmp_path):
    a = _checkpoint(tmp_path / "a", 1.0)
    with pytest.raises(ModelError, match="teacher"):  # another teacher: not the same model
        make_soup([a, _checkpoint(tmp_path / "b", 2.0, teacher=b"other")], tmp_path / "out")
    with pytest.raises(ModelError, match="position"):  # integer tensors cannot be averaged
        make_soup([a, _checkpoint(tmp_path / "c", 2.0, step=4)], tmp_path / "out")
    d = _checkpoint(tmp_path / "d", 2.0)
    save_file({"lora_A": torch.zeros(8)}, d / "adapter_model.safetensors")
    with pytest.raises(ModelError, match="shapes"):
        make_soup([a, d], tmp_path / "out")
    with pytest.raises(ModelError, match="not a TextPro-SLM checkpoint"):
        make_soup([a, tmp_path], tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written on refusal


@pytest.mark.parametrize("weights, match", [([1.0], "at least two"), ([0.5, 0.6], "sum to 1"),
                                             ([1.5, -0.5], "non-negative"), ([0.2, 0.3, 0.5], "3 weights")])
def test_bad_weights_are_refused(tmp_path, weights, match):
    dirs = [_checkpoint(tmp_path / "a", 1.0), _checkpoint(tmp_path / "b", 2.0)]
    with pytest.raises(ConfigError, match=match):
        make_soup(dirs[:len(weights)] if len(weights) == 1 else dirs, tmp_path / "out", weights=weights)


def test_the_command_writes_a_new_directory_and_refuses_an_existing_one(tmp_path, capsys):
    a, b = _checkpoint(tmp_path / "a", 1.0), _checkpoint(tmp_path / "b", 3.0)
    assert main(["soup", str(a), str(b), "--out", str(tmp_path / "soup")]) == 0
    assert "average of 2 checkpoints" in capsys.readouterr().out
    assert main(["soup", str(a), str(b), "--out", str(tmp_path / "soup")]) == 2
    assert "exists" in capsys.readouterr().err


def test_an_adapter_gate_is_averaged_with_its_layer_and_a_different_layer_refused(tmp_path):
    from textpro.slm.gate import GATE_NAME, AdapterGate

    a, b, c = (_checkpoint(tmp_path / n, w) for n, w in (("a", 1.0), ("b", 3.0), ("c", 1.0)))
    for directory, layer, bias in ((a, 15, 1.0), (b, 15, 3.0), (c, 14, 1.0)):
        gate = AdapterGate(4, layer)
        gate.bias.data.fill_(bias)
        gate.save(directory / GATE_NAME)
    soup = AdapterGate.load(make_soup([a, b], tmp_path / "soup") / GATE_NAME)
    assert soup.layer == 15 and float(soup.bias) == 2.0
    with pytest.raises(ModelError, match="metadata"):
        make_soup([a, c], tmp_path / "mixed")


def test_adapters_initialised_apart_are_concatenated_and_a_continuation_averaged_factor_by_factor(tmp_path):
    """Two fresh adapters' A factors are independent random draws: their factor-wise average is no average of the
    models, so `auto` concatenates them (and `factors` refuses). A continuation of one adapter (its factors moved a
    little) is averaged factor by factor."""
    start = torch.randn(2, 64, generator=torch.Generator().manual_seed(0))
    apart = torch.randn(2, 64, generator=torch.Generator().manual_seed(1))
    a, b, c = (_checkpoint(tmp_path / n, 1.0) for n in "abc")
    for directory, factors in ((a, start), (b, start + 0.3 * apart), (c, apart)):
        save_file({"layers.0.q.lora_A.weight": factors, "layers.0.q.lora_B.weight": torch.ones(64, 2)},
                  directory / "adapter_model.safetensors")
    continued = make_soup([a, b], tmp_path / "continued")
    assert load_file(continued / "adapter_model.safetensors")["layers.0.q.lora_A.weight"].shape == (2, 64)
    assert json.loads((continued / SOUP_NAME).read_text())["lora"]["adapter_model.safetensors"] == "factors"
    with pytest.raises(ModelError, match="not a continuation"):
        make_soup([a, b, c], tmp_path / "apart", lora="factors")
    assert not (tmp_path / "apart").exists()
    apart_soup = make_soup([a, b, c], tmp_path / "apart")
    adapter = load_file(apart_soup / "adapter_model.safetensors")
    assert adapter["layers.0.q.lora_A.weight"].shape == (6, 64) and adapter["layers.0.q.lora_B.weight"].shape == (64, 6)
    assert json.loads((apart_soup / "adapter_config.json").read_text())["r"] == 12  # 3 × the helper's r 4


def test_a_concat_soup_is_the_exact_average_of_the_adapters_updates(tmp_path):
    """Real peft adapters on a tiny Llama, drawn apart: the concat soup, loaded by peft, merges to the base plus
    0.25·ΔW_a + 0.75·ΔW_b in every adapted layer."""
    from peft import PeftModel
    from transformers import LlamaForCausalLM

    from tests.test_adapters import tiny_llama, trained_adapter

    base = tiny_llama(tmp_path / "base")
    deltas, directories = [], []
    for seed in (0, 1):
        directory = _checkpoint(tmp_path / f"seed{seed}", 1.0)
        torch.manual_seed(10 + seed)  # each fresh adapter draws its own A factors
        peft_model = trained_adapter(LlamaForCausalLM.from_pretrained(tmp_path / "base"))
        assert peft_model.peft_config["default"].lora_alpha == 8  # scaling 2 at r 4, kept by the soup
        peft_model.save_pretrained(directory)
        merged = peft_model.merge_and_unload().state_dict()
        deltas.append({name: weight - base.state_dict()[name] for name, weight in merged.items()})
        directories.append(directory)
    soup = make_soup(directories, tmp_path / "soup", weights=[0.25, 0.75])
    merged = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(tmp_path / "base"), soup).merge_and_unload()
    changed = 0
    for name, weight in merged.state_dict().items():
        expected = base.state_dict()[name] + 0.25 * deltas[0][name] + 0.75 * deltas[1][name]
        torch.testing.assert_close(weight, expected, atol=1e-5, rtol=1e-4)
        changed += not torch.equal(weight, base.state_dict()[name])
    assert changed == 4  # q_proj and v_proj of both layers
    config = json.loads((soup / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"]) == (8, 16)
