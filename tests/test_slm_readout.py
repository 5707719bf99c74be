"""`textpro readout` (slm/readout.py): per-label offsets on the projected token fitted with the model frozen, the
projector regressed onto them with the mean encoder state as a new branch, written as an ordinary checkpoint."""

import json

import pytest
import torch

from tests.test_slm_training import features, stage_config, tiny_llama  # noqa: F401 (fixtures)
from textpro.errors import ConfigError
from textpro.slm import TextProSLM, readout
from textpro.slm.featurize import FeatureStore
from textpro.slm.projector import ProsodyProjector
from textpro.slm.training import run

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tiny_slm(features, tiny_llama, tmp_path_factory):  # noqa: F811
    """A stage-1 TextPro-SLM (one step) on the tiny random Llama, its projector bounded at the token norm."""
    output = tmp_path_factory.mktemp("readout-slm")
    return run(stage_config(features, tiny_llama, output, slm={"projector_max_norm": "token"},
                            train={"max_steps": 1})).model_dir


def test_fit_offset_lowers_the_answer_loss_and_puts_the_projector_back(features, tiny_slm):  # noqa: F811
    model = TextProSLM.from_pretrained(tiny_slm).eval().requires_grad_(False)
    projector = model.projector
    # unbounded here: the tiny random LLM's token norm (the bound, ~0.1) is too small to move its answers at all
    projector.max_norm.fill_(float("inf"))
    store = FeatureStore(features / "train")
    rows = [(store[i], "Is the speaker male or female?", "female") for i in range(4)]
    batch = model.builder.build_training_batch(rows)
    with torch.no_grad():
        before = float(model(**batch).loss)
    offset = readout.fit_offset(model, rows, steps=30, batch_size=4, lr=0.1, l2=0.0)
    assert model.projector is projector and offset.shape == (projector.linear_out.out_features,)
    assert float(offset.norm()) > 0
    steer = readout.OffsetProjector(projector, float(projector.max_norm))
    with torch.no_grad():
        steer.offset.copy_(offset)
        model.projector = steer
        after = float(model(**batch).loss)
    # the tiny random LLM's logits are near uniform (loss ~ ln V = 10.8) whatever its input: the check is the
    # direction (a sign error would raise the loss), not the size
    assert after < before - 1e-3, (before, after)


def test_regression_writes_the_bounded_targets_and_keeps_unlabelled_rows():
    torch.manual_seed(0)
    p0 = ProsodyProjector(8, 16, zero_init=False, max_norm=1.0)
    inputs, encoder = torch.randn(64, 8), torch.randn(64, 8)
    directions = torch.randn(2, 16)
    labels = torch.arange(64) % 3  # 0, 1: an offset; 2: none
    offsets = torch.where((labels < 2)[:, None], directions[labels.clamp(max=1)], torch.zeros(16))
    targets = readout.readout_targets(p0, inputs, offsets)
    torch.testing.assert_close(targets[labels == 2], p0(inputs[labels == 2]).detach())
    assert torch.all(targets.norm(dim=1) <= 1.0 + 1e-5)
    # the second label's offset depends on the encoder mean alone: only the new branch can tell it apart
    encoder[:, 0] = labels.float()
    steps = []
    student = readout.regress_projector(p0, inputs, encoder, targets, steps=400, lr=1e-2,
                                log=lambda step, _: steps.append(step))
    assert steps == [0, 100, 200, 300, 400] and student.n_encoder == 8 and p0.n_encoder == 0
    with torch.no_grad():
        written = student(torch.cat([inputs, encoder], dim=1))
    residual = (written - targets).pow(2).sum(1).mean() / targets.pow(2).sum(1).mean()
    start = (p0(inputs) - targets).pow(2).sum(1).mean() / targets.pow(2).sum(1).mean()
    assert residual < 0.05 * start, (float(residual), float(start))
    assert torch.all(written.norm(dim=1) <= 1.0 + 1e-5)
    with pytest.raises(ConfigError, match="already reads"):
        readout.regress_projector(student, inputs, encoder, targets, steps=1)


def test_clip_label_reads_the_task_record_or_the_field():
    assert readout.clip_label({"task": "accent", "reference": "scottish"}, "accent") == "scottish"
    assert readout.clip_label({"task": "semantic", "accent": "british"}, "accent") == "british"
    piper = {"task": "semantic", "accent": "british", "engine": "piper"}
    assert readout.clip_label(piper, "accent", ["espeak-ng"]) is None and readout.clip_label(piper, "accent")
    assert readout.clip_label({"task": "semantic", "accent": "martian"}, "accent") is None
    with pytest.raises(ConfigError, match="readout task"):
        readout.ReadoutConfig(task="volume")
    with pytest.raises(ConfigError, match="keep_tasks"):
        readout.ReadoutConfig(keep_tasks=["gender", "mood"])


def test_fit_readout_writes_a_checkpoint_that_reads_the_encoder_mean(features, tiny_slm, tmp_path):  # noqa: F811
    config = readout.ReadoutConfig(task="gender", fit_per_label=2, keep_rows=1, offset_steps=2, batch_size=2,
                           regress_steps=20)
    lines = []
    out = readout.fit_readout(tiny_slm, features / "train", tmp_path / "readout", config, echo=lines.append)
    assert any("offset female" in line for line in lines) and any("regression step 20" in line for line in lines)
    source, model = TextProSLM.from_pretrained(tiny_slm), TextProSLM.from_pretrained(out)
    assert model.config.encoder_summary and model.projector.n_encoder == source.config.d_whisper
    provenance = json.loads((out / readout.READOUT_NAME).read_text())
    assert provenance["labelled_clips"] == 4 and set(provenance["offset_norms"]) == {"male", "female"}
    for name, value in source.llm.state_dict().items():  # no LLM weight moved
        torch.testing.assert_close(model.llm.state_dict()[name], value, rtol=0, atol=0)
    store = FeatureStore(features / "train")
    record = store[0]
    _, rows = model.builder.speech(record)  # the saved model feeds the encoder mean to its projector
    assert rows.shape[-1] == source.builder.speech(record)[1].shape[-1] + source.config.d_whisper
    with torch.no_grad():
        token = model.projector(torch.tensor(rows))
    assert torch.all(token.norm(dim=-1) <= float(source.projector.max_norm) + 1e-5)  # inside the same bound
    assert model.generate([(record, "Is the speaker male or female?")], max_new_tokens=3)  # it runs end to end
    with pytest.raises(ConfigError, match="exists"):
        readout.fit_readout(tiny_slm, features / "train", out, config, echo=lines.append)
    with pytest.raises(ConfigError, match="already reads the mean encoder state"):
        readout.fit_readout(out, features / "train", tmp_path / "again", config, echo=lines.append)
