"""Task-balanced paralinguistic sampling, phrasing resampling and per-example cross-entropy (slm.tasks/training)."""

from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from textpro.data import paralinguistic
from textpro.errors import ConfigError
from textpro.slm.tasks import Example, ParalinguisticConfig, mix
from textpro.slm.training import SLMTrainingConfig, per_example_ce, predicting, token_ce
from textpro.train.kind import IGNORE_INDEX


def _examples(task, label, n, start=0):
    return [Example(0, start + i, f"{task} question {i}", label, task, label) for i in range(n)]


def test_balanced_tasks_draw_every_task_equally():
    examples = _examples("gender", "male", 50) + _examples("pitch", "high", 5, 50) + _examples("rate", "slow", 10, 55)
    once = mix([], examples, None, seed=0)
    assert Counter(e.kind for e in once) == {"gender": 50, "pitch": 5, "rate": 10}  # off: each record once
    balanced = mix([], examples, None, seed=0, balance_tasks=True)
    assert Counter(e.kind for e in balanced) == {"gender": 50, "pitch": 50, "rate": 50}
    assert len({e.index for e in balanced if e.kind == "pitch"}) == 5  # every pitch record, repeated
    distill = [Example(0, 100 + i, None, "green (D)", "distill") for i in range(30)]
    mixed = mix(distill, examples, 0.5, seed=1, balance_tasks=True)
    assert mixed[:30] == distill and Counter(e.kind for e in mixed[30:]) == {"gender": 10, "pitch": 10, "rate": 10}
    assert mixed == mix(distill, examples, 0.5, seed=1, balance_tasks=True)  # deterministic by seed


def test_balanced_labels_draw_every_label_of_a_task_equally():
    examples = (_examples("accent", "american", 60) + _examples("accent", "british", 6, 60)
                + _examples("accent", "scottish", 3, 66) + _examples("gender", "male", 40, 69)
                + _examples("gender", "female", 4, 109))
    plain = mix([], examples, None, seed=0, balance_tasks=True)
    balanced = mix([], examples, None, seed=0, balance_tasks=True, balance_labels=("accent",))
    assert Counter(e.label for e in plain if e.kind == "accent") == {"american": 60, "british": 6, "scottish": 3}
    assert Counter(e.label for e in balanced if e.kind == "accent") == {"american": 23, "british": 23, "scottish": 23}
    assert Counter(e.kind for e in balanced) == {"accent": 69, "gender": 69}  # tasks still balanced
    assert 4 <= sum(e.label == "female" for e in balanced if e.kind == "gender") <= 8  # gender keeps its prior
    assert len({e.index for e in balanced if e.label == "scottish"}) == 3  # every scottish record, repeated
    assert balanced == mix([], examples, None, seed=0, balance_tasks=True, balance_labels=("accent",))
    with pytest.raises(ConfigError, match="balance_tasks"):
        ParalinguisticConfig(balance_labels=["accent"])
    with pytest.raises(ConfigError, match="balance_labels"):
        ParalinguisticConfig(balance_tasks=True, balance_labels=["dialect"])


def test_task_weights_scale_a_task_share_and_keep_the_total():
    examples = (_examples("accent", "american", 20) + _examples("gender", "male", 20, 20)
                + _examples("rate", "slow", 5, 40))
    even = mix([], examples, None, seed=0, balance_tasks=True)
    assert even == mix([], examples, None, seed=0, balance_tasks=True, task_weights={})  # no weights: unchanged
    weighted = mix([], examples, None, seed=0, balance_tasks=True, task_weights={"accent": 4.0})
    assert Counter(e.kind for e in weighted) == {"accent": 40, "gender": 10, "rate": 10}  # 4 : 1 : 1 of 60
    distill = [Example(0, 100 + i, None, "green (D)", "distill") for i in range(30)]
    mixed = mix(distill, examples, 0.5, seed=1, balance_tasks=True, task_weights={"accent": 4.0})
    assert Counter(e.kind for e in mixed[30:]) == {"accent": 20, "gender": 5, "rate": 5}  # the ratio still holds
    with pytest.raises(ConfigError, match="balance_tasks"):
        ParalinguisticConfig(task_weights={"accent": 2.0})
    with pytest.raises(ConfigError, match="not among the tasks"):
        ParalinguisticConfig(balance_tasks=True, task_weights={"dialect": 2.0})
    with pytest.raises(ConfigError, match="positive"):
        ParalinguisticConfig(balance_tasks=True, task_weights={"accent": 0.0})
    with pytest.raises(ConfigError, match="positive numbers"):
        ParalinguisticConfig(balance_tasks=True, task_weights={"accent": "three"})


def test_resampled_phrasings_are_train_phrasings_with_their_answers():
    examples = _examples("gender", "female", 200)
    drawn = mix([], examples, None, seed=0, resample_phrasings=True)
    train = {p.text: p for p in paralinguistic.phrasings_for("gender", "train")}
    assert all(e.instruction in train for e in drawn)
    assert len({e.instruction for e in drawn}) > 10  # many phrasings, not the record's one
    for e in drawn:
        assert e.label == "female" and e.response == train[e.instruction].target("female")
    assert {train[e.instruction].form for e in drawn} == set(paralinguistic.FORMS)
    custom = [Example(0, 0, "How old is the speaker?", "adult", "age", "adult")]  # a task without phrasings
    assert mix([], custom, None, seed=0, resample_phrasings=True) == custom


def test_yes_no_questions_ask_the_own_label_at_the_chosen_share():
    examples = _examples("pitch", "mid", 3000)
    train = {p.text: p for p in paralinguistic.phrasings_for("pitch", "train")}

    def own_share(drawn):
        asks = [train[e.instruction].asks[0] for e in drawn if train[e.instruction].form == "yes_no"]
        return sum(label == "mid" for label in asks) / len(asks)

    default = mix([], examples, None, seed=0, resample_phrasings=True)
    assert default == mix([], examples, None, seed=0, resample_phrasings=True, yes_no_own_share=0.5)
    assert own_share(default) == pytest.approx(0.5, abs=0.05)
    uniform = mix([], examples, None, seed=0, resample_phrasings=True, yes_no_own_share=None)  # 1 of 3 labels
    assert own_share(uniform) == pytest.approx(1 / 3, abs=0.05)
    assert all(e.response == train[e.instruction].target("mid") for e in uniform)  # "Mid, so no." when not asked
    with pytest.raises(ConfigError, match="yes_no_own_share"):
        ParalinguisticConfig(yes_no_own_share=1.5)


def test_per_example_ce_weighs_rows_equally():
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 11)
    labels = torch.full((2, 6), IGNORE_INDEX)
    labels[0, 1:6] = torch.tensor([1, 2, 3, 4, 5])  # a long answer
    labels[1, 4:6] = torch.tensor([7, 8])  # a short one
    token_mean = F.cross_entropy(logits[:, :-1].reshape(-1, 11), labels[:, 1:].reshape(-1), ignore_index=IGNORE_INDEX)
    rows = [F.cross_entropy(logits[r, :-1], labels[r, 1:], ignore_index=IGNORE_INDEX) for r in range(2)]
    keep = predicting(labels)  # the objective's view: logits only where a response token is predicted
    kept, targets, rows_of = logits[keep], labels[:, 1:][keep[:, :-1]], keep.nonzero()[:, 0]
    assert kept.shape == (7, 11) and rows_of.tolist() == [0] * 5 + [1] * 2
    assert torch.allclose(per_example_ce(kept, targets, rows_of, 2), (rows[0] + rows[1]) / 2)
    assert not torch.allclose(per_example_ce(kept, targets, rows_of, 2), token_mean)
    assert torch.allclose(token_ce(kept, targets), token_mean)
    with pytest.raises(ConfigError, match="ce_average"):
        SLMTrainingConfig(ce_average="sentence")


def test_balanced_acoustics_move_the_projection():
    from textpro.slm.projector import ProsodyProjector

    torch.manual_seed(0)
    learned = torch.randn(200, 64)
    f0 = torch.randn(200, 1) * 0.5  # octaves: a physical scale far smaller than 64 standardised dimensions
    inputs = torch.cat([learned, f0, torch.randn(200, 2) * 0.1], dim=1)
    moved = {}
    for balance in (False, True):
        projector = ProsodyProjector(64, 32, zero_init=False, n_acoustic=3)
        projector.fit_input(inputs, balance=balance)
        shifted = inputs.clone()
        shifted[:, 64] += 1.0  # one octave higher
        with torch.no_grad():
            base = projector(inputs)
            moved[balance] = ((projector(shifted) - base).norm(dim=1) / base.norm(dim=1)).mean()
        if balance:  # each feature at unit training spread times sqrt(64 / 3)
            scaled = (inputs[:, 64:] - projector.acoustic_mean) * projector.acoustic_scale
            assert torch.allclose(scaled.std(0), torch.full((3,), (64 / 3) ** 0.5), rtol=1e-4)
            assert torch.equal(projector(projector.neutral_input()[None]), projector(inputs.mean(0, keepdim=True)))
        else:
            assert torch.equal(projector.acoustic_scale, torch.ones(3))  # physical units, as before
    assert moved[True] > 4 * moved[False]
