"""Robust hearing on the SLM side: measured acoustics beside the learned vector, the projector's norm bound, the
prosody-neutral speech of the eval diagnostic, and distillation examples that read another clip's vectors."""

import numpy as np
import pytest
import torch

from tests.conftest import tone
from tests.test_slm import D_WHISPER, make_model, speech
from textpro.acoustics import ACOUSTIC_FEATURES, utterance_acoustics
from textpro.errors import TextproError
from textpro.slm import ProsodyProjector

K = len(ACOUSTIC_FEATURES)


@pytest.fixture(scope="module")
def smol_dir():
    from textpro.hub import resolve_model

    return resolve_model("smollm2-135m-instruct")


def spoken(text: str, seed: int = 0, f0_oct: float = 0.0):
    s = speech(text, seed=seed)
    s.acoustics = np.array([f0_oct, 0.3, 1.0, 0.0, 0.1, 0.8], np.float32)
    return s


def test_utterance_acoustics_measure_pitch_and_rate():
    low, high = tone(2.0, freq=110.0), tone(2.0, freq=220.0)
    a_low, a_high = utterance_acoustics(low, n_words=4), utterance_acoustics(high, n_words=8)
    assert a_low.f0_median == pytest.approx(110, rel=0.05) and a_high.f0_median == pytest.approx(220, rel=0.05)
    assert a_high.vector()[0] - a_low.vector()[0] == pytest.approx(1.0, abs=0.08)  # one octave apart
    assert a_high.words_per_second == pytest.approx(2 * a_low.words_per_second)
    silent = utterance_acoustics(np.zeros(16000, np.float32), n_words=3)
    assert silent.f0_median is None and np.isfinite(silent.vector()).all()


def test_norm_bound_holds_for_any_input(smol_dir):
    model = make_model(smol_dir, projector_max_norm="token")
    table = model.llm.get_input_embeddings().weight
    median = table.detach().norm(dim=1)[table.abs().amax(1) > 0].median()
    assert float(model.projector.max_norm) == pytest.approx(float(median), rel=1e-5)
    loud = model.projector(torch.randn(16, D_WHISPER) * 1e4).detach()
    assert float(loud.norm(dim=-1).max()) <= float(median) * (1 + 1e-5)
    unbounded = make_model(smol_dir).projector(torch.randn(16, D_WHISPER) * 1e4).detach()
    assert float(unbounded.norm(dim=-1).max()) > 10 * float(median)  # the bound is what made the difference


def test_acoustic_rows_reach_the_projector(smol_dir, tmp_path):
    model = make_model(smol_dir, acoustic_features=True, injection="interleave")
    ids, rows = model.builder.speech(spoken(" one two three four five six seven eight nine ten eleven"))
    assert rows.shape == (ids.count(model.placeholder_id), D_WHISPER + K) and len(rows) == 3
    assert np.allclose(rows[:, D_WHISPER:], rows[0, D_WHISPER:])  # the utterance's acoustics on every group
    with pytest.raises(TextproError, match="acoustics"):
        model.builder.speech(speech(" no measurement here"))
    # the acoustics move the answer's input: two clips that differ only in measured F0 embed differently
    a = model.builder.build_generation_batch([spoken(" hello there", f0_oct=-0.8)])
    b = model.builder.build_generation_batch([spoken(" hello there", f0_oct=0.8)])
    ea = model.embed(a["input_ids"], a["prosody_vectors"], a["prosody_mask"])
    eb = model.embed(b["input_ids"], b["prosody_vectors"], b["prosody_mask"])
    assert not torch.allclose(ea, eb)
    # saved and loaded with the acoustic width and statistics
    model.projector.acoustic_mean.fill_(0.25)
    model.save_pretrained(tmp_path / "m")
    loaded = type(model).from_pretrained(tmp_path / "m")
    assert loaded.projector.linear_in.in_features == D_WHISPER + K
    assert torch.equal(loaded.projector.acoustic_mean, model.projector.acoustic_mean)


def test_neutral_speech_reads_the_training_means(smol_dir):
    model = make_model(smol_dir, acoustic_features=True)
    model.projector.fit_input(torch.randn(50, D_WHISPER + K) * 3 + 1)
    original = spoken(" the same words", seed=3, f0_oct=0.9)
    neutral = model.neutral_speech(original)
    assert neutral.text == original.text and neutral.prosody.shape == original.prosody.shape
    assert np.allclose(neutral.utterance, model.projector.input_mean.numpy())
    assert np.allclose(neutral.acoustics, model.projector.acoustic_mean.numpy())
    # every neutral clip projects to one and the same vector, whatever the voice it came from
    other = model.neutral_speech(spoken(" the same words", seed=7, f0_oct=-0.9))
    rows = [torch.from_numpy(model.builder.speech(s)[1]) for s in (neutral, other)]
    assert torch.allclose(model.projector(rows[0]), model.projector(rows[1]))
    # one branch at a time: the other keeps the clip's own values
    learned_only = model.neutral_speech(original, branch="learned")
    assert np.allclose(learned_only.utterance, model.projector.input_mean.numpy())
    assert np.array_equal(learned_only.acoustics, original.acoustics)
    acoustic_only = model.neutral_speech(original, branch="acoustic")
    assert np.array_equal(acoustic_only.utterance, original.utterance)
    assert np.allclose(acoustic_only.acoustics, model.projector.acoustic_mean.numpy())


def test_prosody_gain_reads_every_voice_closer_to_the_training_mean(smol_dir, tmp_path):
    model = make_model(smol_dir, acoustic_features=True, prosody_gain=0.5)
    model.projector.fit_input(torch.randn(50, D_WHISPER + K) * 3 + 1)
    x = torch.randn(6, D_WHISPER + K) * 3 + 1
    neutral = model.projector.neutral_input()
    assert model.projector.input_gain == 0.5  # set from the config
    # at gain g the projector reads x as the gain-1 projector reads mean + g (x - mean), on both branches alike
    model.projector.input_gain = 1.0
    halfway = model.projector(neutral + 0.5 * (x - neutral))
    model.projector.input_gain = 0.5
    assert torch.allclose(model.projector(x), halfway, atol=1e-5)
    assert not torch.allclose(model.projector(x), model.projector(neutral.expand_as(x)), atol=1e-3)
    model.projector.input_gain = 0.0  # every voice is the training mean: the prosody-neutral model
    assert torch.allclose(model.projector(x), model.projector(neutral.expand_as(x)), atol=1e-6)
    # the gain is the checkpoint's config, not a projector weight: saved and loaded with it
    model.projector.input_gain = 0.5
    model.save_pretrained(tmp_path / "m")
    loaded = type(model).from_pretrained(tmp_path / "m")
    assert loaded.config.prosody_gain == 0.5 and loaded.projector.input_gain == 0.5
    assert torch.allclose(loaded.projector(x), halfway, atol=1e-5)
    with pytest.raises(TextproError, match="prosody_gain"):
        make_model(smol_dir, prosody_gain=-1.0)


def test_branch_dropout_only_in_training():
    projector = ProsodyProjector(D_WHISPER, 32, zero_init=False, n_acoustic=K)
    projector.branch_dropout = (0.5, 0.5)
    x = torch.randn(400, D_WHISPER + K)
    projector.eval()
    assert torch.equal(projector(x), projector(x))
    projector.train()
    torch.manual_seed(0)
    dropped = projector(x)
    both_off = projector.linear_out(projector.act(projector.linear_in(torch.zeros(1, D_WHISPER + K))))
    share = float(torch.isclose(dropped, both_off.expand_as(dropped), atol=1e-6).all(-1).float().mean())
    assert 0.15 < share < 0.35  # both branches dropped in about a quarter of the rows


def test_learned_noise_moves_the_learned_branch_only_and_only_in_training():
    projector = ProsodyProjector(D_WHISPER, 32, zero_init=False, n_acoustic=K)
    projector.learned_noise = 1.0
    x = torch.randn(8, D_WHISPER + K)
    projector.eval()
    assert torch.equal(projector(x), projector(x))
    projector.train()
    assert not torch.allclose(projector(x), projector(x))
    learned_off = x.clone()
    learned_off[:, :D_WHISPER] = 0.0
    with torch.no_grad():
        projector.linear_in.weight[:, :D_WHISPER] = 0.0  # the output now reads the acoustics alone
    assert torch.equal(projector(x), projector(learned_off))


class _VectorStore:  # a feature store's interface: records with a transcript and vectors that all read its number
    def __init__(self, n):
        self.records = [{"id": str(i), "text": f"clip {i}", "prosody": np.full((2, 4), i, np.float32),
                         "utterance": np.full(4, i, np.float32), "acoustics": np.full(K, i, np.float32)}
                        for i in range(n)]
        self.index = self.records

    def __len__(self):
        return len(self.records)

    def __getitem__(self, i):
        return self.records[i]


def _content_and_gender_rows(n=100):  # rows 0..n-1 content (distillation), n..2n-1 gender, both over clips 0..n-1
    from textpro.slm.tasks import Example

    return ([Example(0, i, None, "answer", "distill") for i in range(n)]
            + [Example(0, i, "Is the speaker male?", "male", "gender", "male") for i in range(n)])


def test_prosody_swap_changes_vectors_of_distillation_rows_only():
    from textpro.slm.training import SLMDataset

    examples = _content_and_gender_rows()
    dataset = SLMDataset([_VectorStore(100)], examples, prosody_swap=0.5, seed=0)
    swapped = [i for i in range(200) if dataset[i]["speech"]["utterance"][0] != examples[i].index]
    assert 30 < len(swapped) < 70 and all(examples[i].kind == "distill" for i in swapped)
    for i in swapped:
        item = dataset[i]["speech"]
        assert item["text"] == f"clip {examples[i].index}"  # the words stay, the voice comes from elsewhere
        assert item["acoustics"][0] == item["utterance"][0] == item["prosody"][0, 0]
    assert SLMDataset([_VectorStore(100)], examples, prosody_swap=0.0).swaps == {}


def test_content_acoustic_swap_moves_the_acoustics_of_content_rows_alone():
    from textpro.errors import ConfigError
    from textpro.slm.training import SLMDataset, SLMTrainingConfig

    examples = _content_and_gender_rows()
    dataset = SLMDataset([_VectorStore(100)], examples, seed=0, content_acoustic_swap=0.5)
    moved = [i for i in range(200) if dataset[i]["speech"]["acoustics"][0] != examples[i].index]
    assert 30 < len(moved) < 70 and all(examples[i].kind == "distill" for i in moved)
    for i in range(200):
        item = dataset[i]["speech"]
        assert item["text"] == f"clip {examples[i].index}"  # the words stay
        assert item["utterance"][0] == item["prosody"][0, 0] == examples[i].index  # and the learned vectors
    # with prosody_swap as well: the swapped rows keep their partner's learned vectors, the rows drawn here read
    # acoustics from yet another clip, and prosody_swap's draws do not move
    both = SLMDataset([_VectorStore(100)], examples, seed=0, prosody_swap=0.5, content_acoustic_swap=0.5)
    assert both.swaps == SLMDataset([_VectorStore(100)], examples, seed=0, prosody_swap=0.5).swaps
    assert sorted(both.acoustic_swaps) == sorted(dataset.acoustic_swaps)
    disagree = [i for i in range(100) if both[i]["speech"]["acoustics"][0] != both[i]["speech"]["utterance"][0]]
    assert set(disagree) <= set(dataset.acoustic_swaps) and len(disagree) > 25
    with pytest.raises(ConfigError, match="content_acoustic_swap"):
        SLMTrainingConfig(stage=2, content_acoustic_swap=1.5)


def test_content_acoustic_mean_draws_content_rows_alone_on_a_stream_of_its_own():
    from textpro.slm.training import SLMDataset

    examples = _content_and_gender_rows()
    dataset = SLMDataset([_VectorStore(100)], examples, seed=0, content_acoustic_mean=0.5)
    marked = [i for i in range(200) if dataset[i]["acoustic_mean"]]
    assert 30 < len(marked) < 70 and all(examples[i].kind == "distill" for i in marked)
    assert all(dataset[i]["speech"]["acoustics"][0] == examples[i].index for i in range(200))  # set by the objective
    swapped = SLMDataset([_VectorStore(100)], examples, seed=0, content_acoustic_mean=0.5, content_acoustic_swap=0.5)
    assert swapped.acoustic_mean == dataset.acoustic_mean  # the swaps' draws do not move these, nor these the swaps
    assert swapped.acoustic_swaps == SLMDataset([_VectorStore(100)], examples, seed=0,
                                                content_acoustic_swap=0.5).acoustic_swaps
    assert SLMDataset([_VectorStore(100)], examples, seed=1, content_acoustic_mean=0.5).acoustic_mean != set(marked)
    assert not SLMDataset([_VectorStore(100)], examples, seed=0).acoustic_mean


def test_content_mean_pull_draws_content_rows_and_their_fractions_on_a_stream_of_their_own():
    from textpro.slm.training import SLMDataset

    examples = _content_and_gender_rows()
    dataset = SLMDataset([_VectorStore(100)], examples, seed=0, content_mean_pull=0.5)
    pulls = {i: dataset[i]["mean_pull"] for i in range(200) if dataset[i]["mean_pull"]}
    assert 30 < len(pulls) < 70 and all(examples[i].kind == "distill" for i in pulls)
    assert all(0 < p < 1 for p in pulls.values()) and min(pulls.values()) < 0.25 and max(pulls.values()) > 0.75
    other = SLMDataset([_VectorStore(100)], examples, seed=0, content_mean_pull=0.5, content_acoustic_mean=0.5,
                       neutral_content=0.5, content_acoustic_swap=0.5)
    assert other.mean_pulls == dataset.mean_pulls  # no other draw moves these
    assert not SLMDataset([_VectorStore(100)], examples, seed=0).mean_pulls


def test_written_prompts_are_read_around_a_random_clips_prosody(tmp_path):
    import json

    from textpro.errors import ConfigError
    from textpro.slm.tasks import written_examples
    from textpro.slm.training import SLMDataset

    path = tmp_path / "written.jsonl"
    rows = [{"id": f"prompt-{i:05d}", "source": "text", "question": f"Why is {i} odd?", "response": f"Because {i}."}
            for i in range(40)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    examples = written_examples([_VectorStore(100)], path, seed=0)
    assert [e.text for e in examples] == [r["question"] for r in rows] and {e.kind for e in examples} == {"distill"}
    assert len({e.index for e in examples}) > 20  # spread over the clips, seeded
    assert [e.index for e in written_examples([_VectorStore(100)], path, seed=0)] == [e.index for e in examples]
    dataset = SLMDataset([_VectorStore(100)], examples, seed=0)
    for i, e in enumerate(examples):
        item = dataset[i]
        assert item["speech"]["text"] == e.text and item["response"] == e.response  # the prompt's words are read
        assert item["speech"]["utterance"][0] == e.index  # with the drawn clip's prosody
    assert dataset.lengths[0] == len(examples[0].text) + len(examples[0].response)
    path.write_text(json.dumps({"id": "prompt-00000", "response": "no question"}) + "\n")
    with pytest.raises(ConfigError, match="question"):
        written_examples([_VectorStore(100)], path, seed=0)


def test_learned_swap_changes_the_learned_vectors_of_paralinguistic_rows_only():
    from textpro.slm.training import SLMDataset

    store = _VectorStore(100)
    examples = _content_and_gender_rows()
    dataset = SLMDataset([store], examples, seed=0, learned_swap=0.5)
    swapped = [i for i in range(200) if dataset[i]["speech"]["utterance"][0] != examples[i].index]
    assert 30 < len(swapped) < 70 and all(examples[i].kind == "gender" for i in swapped)
    for i in swapped:
        item = dataset[i]["speech"]
        assert item["text"] == f"clip {examples[i].index}"
        assert item["acoustics"][0] == examples[i].index  # the measured acoustics stay the clip's own
        assert item["utterance"][0] == item["prosody"][0, 0] != examples[i].index


def test_task_learned_swap_overrides_the_share_per_task():
    from textpro.errors import ConfigError
    from textpro.slm.tasks import Example
    from textpro.slm.training import SLMDataset, SLMTrainingConfig

    examples = [Example(0, i, "Is the speaker male?", "male", "gender", "male") for i in range(100)]
    examples += [Example(0, i, "Which accent?", "scottish", "accent", "scottish") for i in range(100)]
    dataset = SLMDataset([_VectorStore(100)], examples, seed=0, learned_swap=0.5,
                         task_learned_swap={"gender": 1.0, "accent": 0.0})
    assert sorted(dataset.swaps) == list(range(100))  # every gender row, no accent row
    with pytest.raises(ConfigError, match="task_learned_swap.gender"):
        SLMTrainingConfig(stage=2, task_learned_swap={"gender": 1.5})


def test_task_acoustics_keep_a_tasks_own_cues_and_take_the_rest_from_another_clip():
    from textpro.acoustics import ACOUSTIC_FEATURES
    from textpro.errors import ConfigError
    from textpro.slm.training import SLMDataset, SLMTrainingConfig

    store = _VectorStore(100)
    examples = _content_and_gender_rows()
    dataset = SLMDataset([store], examples, seed=0, learned_swap=0.5, task_acoustics={"gender": ["f0_median_oct"]})
    f0, rest = ACOUSTIC_FEATURES.index("f0_median_oct"), [k for k in range(K) if k != 0]
    moved = 0
    for i, e in enumerate(examples):
        item = dataset[i]["speech"]
        if e.kind == "distill":
            assert (item["acoustics"] == e.index).all()  # untouched: no prosody_swap here
            continue
        assert item["acoustics"][f0] == e.index  # the gender cue is the clip's own
        partner = item["acoustics"][rest]
        assert (partner == partner[0]).all()  # the rest comes from one other clip ...
        if i in dataset.swaps:  # ... the learned-swap partner where the row has one
            assert partner[0] == item["utterance"][0]
        moved += partner[0] != e.index
    assert moved > 90  # a partner is drawn for the rows without a learned swap too
    assert SLMDataset([store], examples, seed=0, learned_swap=0.5).swaps == dataset.swaps  # the same swaps
    with pytest.raises(ConfigError, match="task_acoustics.gender"):
        SLMTrainingConfig(stage=2, task_acoustics={"gender": ["f0"]})


def test_task_f0_shift_moves_only_the_median_f0_of_the_named_task_and_label():
    from textpro.acoustics import ACOUSTIC_FEATURES
    from textpro.errors import ConfigError
    from textpro.slm.tasks import Example
    from textpro.slm.training import SLMDataset, SLMTrainingConfig

    store = _VectorStore(100)
    examples = [Example(0, i, None, "answer", "distill") for i in range(50)]
    examples += [Example(0, i, "Is the speaker male?", "male", "gender", "male") for i in range(50)]
    examples += [Example(0, i, "Is the speaker male?", "female", "gender", "female") for i in range(50, 100)]
    examples += [Example(0, i, "High or low?", "low", "pitch", "low") for i in range(50)]
    shift = {"gender": {"male": [0.0, 0.45]}}
    dataset = SLMDataset([store], examples, seed=0, learned_swap=0.5, task_f0_shift=shift)
    f0 = ACOUSTIC_FEATURES.index("f0_median_oct")
    moved = []
    for i, e in enumerate(examples):
        acoustics = dataset[i]["speech"]["acoustics"]
        assert (acoustics[np.arange(K) != f0] == e.index).all()  # every other cue is the clip's own
        delta = acoustics[f0] - e.index
        if e.kind == "gender" and e.label == "male":
            assert 0.0 <= delta <= 0.45
            moved.append(delta)
        else:
            assert delta == 0.0
    assert np.std(moved) > 0.08  # drawn per example, not one shift for all
    assert [dataset[i]["speech"]["acoustics"][f0] for i in range(len(examples))] == \
        [SLMDataset([store], examples, seed=0, learned_swap=0.5, task_f0_shift=shift)[i]["speech"]["acoustics"][f0]
         for i in range(len(examples))]  # fixed by the seed
    assert SLMDataset([store], examples, seed=0, learned_swap=0.5).swaps == dataset.swaps  # the same swaps
    with pytest.raises(ConfigError, match="task_f0_shift.gender"):
        SLMTrainingConfig(stage=2, task_f0_shift={"gender": {"male": [0.4, 0.1]}})


def test_template_cache_is_bounded(smol_dir):
    from textpro.slm.inputs import TEMPLATE_CACHE_SIZE

    builder = make_model(smol_dir).builder
    first = builder.template("question 0")
    for i in range(TEMPLATE_CACHE_SIZE + 40):  # a server sees a new instruction with every request
        builder.template(f"question {i}")
    assert len(builder._templates) == TEMPLATE_CACHE_SIZE
    assert builder.template("question 0") == first  # dropped, then rendered again the same


def with_encoder_mean(s, value: float = 0.0, seed: int = 0):
    s.encoder_mean = (np.random.default_rng(seed).standard_normal(D_WHISPER) + value).astype(np.float32)
    return s


def test_encoder_mean_rows_reach_the_projector_and_survive_save_and_load(smol_dir, tmp_path):
    model = make_model(smol_dir, acoustic_features=True, encoder_summary=True, injection="interleave")
    clip = with_encoder_mean(spoken(" one two three four five six seven eight nine ten eleven"), seed=1)
    ids, rows = model.builder.speech(clip)
    assert rows.shape == (ids.count(model.placeholder_id), 2 * D_WHISPER + K) and len(rows) == 3
    assert np.allclose(rows[:, D_WHISPER:D_WHISPER + K], clip.acoustics)  # order: learned, acoustics, encoder
    assert np.allclose(rows[:, D_WHISPER + K:], clip.encoder_mean)
    with pytest.raises(TextproError, match="encoder state"):
        model.builder.speech(spoken(" no encoder mean here"))
    a = model.builder.build_generation_batch([with_encoder_mean(spoken(" hello there"), -2.0)])
    b = model.builder.build_generation_batch([with_encoder_mean(spoken(" hello there"), 2.0)])
    assert a["prosody_vectors"].shape[-1] == model.config.projector_width == 2 * D_WHISPER + K
    ea = model.embed(a["input_ids"], a["prosody_vectors"], a["prosody_mask"])
    eb = model.embed(b["input_ids"], b["prosody_vectors"], b["prosody_mask"])
    assert not torch.allclose(ea, eb)  # two clips that differ only in their encoder mean embed differently
    model.projector.fit_input(torch.randn(50, 2 * D_WHISPER + K) * 3 + 1)
    model.save_pretrained(tmp_path / "m")
    loaded = type(model).from_pretrained(tmp_path / "m")
    assert loaded.config.encoder_summary and loaded.projector.linear_encoder.in_features == D_WHISPER
    assert torch.equal(loaded.projector.linear_encoder.weight, model.projector.linear_encoder.weight)
    assert torch.equal(loaded.projector.encoder_input_std, model.projector.encoder_input_std)
    # the prosody-neutral diagnostic puts the encoder mean at its training mean too, as part of the learned branch
    neutral = loaded.neutral_speech(clip)
    assert np.allclose(neutral.encoder_mean, model.projector.encoder_input_mean.numpy())
    assert np.array_equal(loaded.neutral_speech(clip, branch="acoustic").encoder_mean, clip.encoder_mean)


def test_adding_the_encoder_branch_keeps_a_trained_projectors_output():
    projector = ProsodyProjector(D_WHISPER, 32, zero_init=False, n_acoustic=K)
    projector.fit_input(torch.randn(50, D_WHISPER + K) * 2 + 1)
    x = torch.randn(8, D_WHISPER + K)
    before = projector(x).detach()
    projector.add_encoder_branch(D_WHISPER)
    encoder = torch.randn(8, D_WHISPER) * 5
    projector.fit_encoder_input(torch.randn(50, D_WHISPER) * 4)
    after = projector(torch.cat([x, encoder], dim=-1))
    assert torch.allclose(before, after.detach(), atol=1e-6)  # the new weight starts at zero
    after.sum().backward()
    assert projector.linear_encoder.weight.grad.abs().sum() > 0  # and training moves it
    with pytest.raises(ValueError, match="already"):
        projector.add_encoder_branch(D_WHISPER)


def test_learned_noise_and_dropout_treat_the_encoder_mean_as_learned():
    projector = ProsodyProjector(D_WHISPER, 32, zero_init=False, n_acoustic=K, n_encoder=D_WHISPER)
    x = torch.randn(400, 2 * D_WHISPER + K)
    with torch.no_grad():
        projector.linear_in.weight.zero_()  # the output reads the encoder mean alone
    projector.train()
    projector.learned_noise = 1.0
    assert not torch.allclose(projector(x[:8]), projector(x[:8]))
    projector.encoder_noise = 0.0  # its own level: none, while the learned vector keeps its noise
    assert torch.equal(projector(x[:8]), projector(x[:8]))
    projector.encoder_noise = None
    projector.learned_noise, projector.branch_dropout = 0.0, (0.5, 0.0)
    encoder_off = projector.linear_out(projector.act(projector.linear_in.bias))  # what a dropped row reads
    share = float(torch.isclose(projector(x), encoder_off.expand(400, -1), atol=1e-6).all(-1).float().mean())
    assert 0.35 < share < 0.65  # the learned dropout takes the encoder mean with it


def test_swaps_carry_the_encoder_mean_with_the_learned_vectors():
    from textpro.slm.tasks import Example
    from textpro.slm.training import SLMDataset

    store = _VectorStore(100)
    for record in store.records:
        record["encoder_mean"] = np.full(4, float(record["id"]), np.float32)
    examples = [Example(0, i, "Is the speaker male?", "male", "gender", "male") for i in range(100)]
    dataset = SLMDataset([store], examples, seed=0, learned_swap=0.5)
    swapped = [dataset[i]["speech"] for i in range(100) if dataset[i]["speech"]["utterance"][0] != i]
    assert swapped and all(s["encoder_mean"][0] == s["utterance"][0] for s in swapped)


def test_own_encoder_mean_keeps_a_tasks_encoder_mean_through_the_learned_swap():
    from textpro.slm.tasks import Example
    from textpro.slm.training import SLMDataset

    store = _VectorStore(100)
    for record in store.records:
        record["encoder_mean"] = np.full(4, float(record["id"]), np.float32)
    examples = [Example(0, i, "Is the speaker male?", "male", "gender", "male") for i in range(100)]
    examples += [Example(0, i, "Which accent?", "british", "accent", "british") for i in range(100)]
    dataset = SLMDataset([store], examples, seed=0, learned_swap=1.0, own_encoder_mean=["gender"])
    items = [dataset[i]["speech"] for i in range(len(examples))]
    swapped = [(e, item) for e, item in zip(examples, items, strict=True) if item["utterance"][0] != e.index]
    assert len(swapped) > 180  # nearly every row reads another clip's decoder-layer vectors (a draw may hit its own)
    for e, item in swapped:
        assert (item["encoder_mean"][0] == e.index) == (e.kind == "gender")  # gender rows keep their encoder mean


def test_encoder_lr_scale_gives_the_encoder_weight_its_own_learning_rate(smol_dir):
    from textpro.slm.training import SLMObjective
    from textpro.train.config import TrainConfig
    from textpro.train.loop import build_optimizer

    model = make_model(smol_dir, encoder_summary=True)
    objective = SLMObjective(model, encoder_lr_scale=20.0)
    optimizer = build_optimizer(objective, list(objective.parameters()), TrainConfig(learning_rate=1e-4))
    rates = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    assert rates[id(model.projector.linear_encoder.weight)] == pytest.approx(2e-3)
    assert rates[id(model.projector.linear_in.weight)] == pytest.approx(1e-4)
    trainable = [p for p in objective.parameters() if p.requires_grad]
    assert len(rates) == len(trainable)  # every trainable parameter in exactly one group


def test_label_heads_read_the_projected_vector_and_train_only_the_projector(smol_dir, tmp_path):
    from textpro.slm.training import SLMCollator, SLMObjective
    from textpro.train.config import TrainConfig
    from textpro.train.loop import build_optimizer

    model = make_model(smol_dir).train()
    tasks = {"gender": ["male", "female"], "accent": ["american", "british", "scottish", "caribbean"]}
    objective = SLMObjective(model, label_aux=0.5, label_tasks=tasks)
    rows = [{"speech": speech(" hello there", seed=0), "instruction": "Male or female?", "response": "female",
             "kind": "gender", "label": "female"},
            {"speech": speech(" hello there", seed=1), "instruction": "Which accent?", "response": "scottish",
             "kind": "accent", "label": "scottish"},
            {"speech": speech(" what is two and two", seed=2), "instruction": None, "response": "four",
             "kind": "distill", "label": None}]
    batch = SLMCollator(model.builder, 64, label_tasks=tasks)(rows)
    assert batch["label_task"].tolist() == [0, 1, -1] and batch["label_index"].tolist() == [1, 2, -1]
    out = objective(batch)
    # zero heads: uniform over each task's labels, so the term is the mean of log 2 and log 4
    assert float(out["label_ce"]) == pytest.approx((np.log(2) + np.log(4)) / 2, rel=1e-5)
    response = objective.response_loss(batch)["loss"].detach()
    assert float(out["loss"].detach()) == pytest.approx(float(response + 0.5 * out["label_ce"]), rel=1e-5)
    # a head that has learned something sends gradient to the projector and to nothing in the LLM
    torch.nn.init.normal_(objective.label_heads[1].weight)
    objective.zero_grad()
    objective.label_loss(batch)[0].backward()
    assert model.projector.linear_out.weight.grad.abs().sum() > 0
    assert all(p.grad is None or not p.grad.any() for p in model.llm.parameters())
    # the heads learn at their own rate and are not part of the exported model
    optimizer = build_optimizer(objective, list(objective.parameters()), TrainConfig(learning_rate=1e-4))
    rates = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    assert rates[id(objective.label_heads[0].weight)] == pytest.approx(1e-4 * SLMObjective.LABEL_HEAD_LR_SCALE)
    assert rates[id(model.projector.linear_in.weight)] == pytest.approx(1e-4)
    objective.save_pretrained(tmp_path / "m")
    from safetensors.torch import load_file

    saved = [k for f in (tmp_path / "m").rglob("*.safetensors") for k in load_file(f)]
    assert saved and not any("label_heads" in k for k in saved)


def test_a_bounded_label_head_cannot_grow_its_margin(smol_dir):
    from textpro.slm.training import SLMCollator, SLMObjective

    model = make_model(smol_dir).train()
    tasks = {"gender": ["male", "female"]}
    rows = [{"speech": speech(" hi", seed=0), "instruction": "Male or female?", "response": "female", "kind": "gender",
             "label": "female"}]
    batch = SLMCollator(model.builder, 64, label_tasks=tasks)(rows)
    free, bounded = (SLMObjective(model, label_aux=1.0, label_tasks=tasks, label_head_norm=norm)
                     for norm in (None, 0.5))
    token = model.projector(batch["prosody_vectors"][0, 0]).detach()  # (d_llm,) the row's one projected vector
    for objective in (free, bounded):
        with torch.no_grad():  # "female" along the token, "male" nowhere: both heads point the right way
            objective.label_heads[0].weight.copy_(torch.stack([torch.zeros_like(token), token / token.norm()]) * 1e3)
    # the free head's margin grows with its weights; the bounded one's is its norm x the token's
    assert float(free.label_loss(batch)[0].detach()) < 1e-3
    expected = float(torch.log1p(torch.exp(-0.5 * token.norm())))
    assert float(bounded.label_loss(batch)[0].detach()) == pytest.approx(expected, rel=1e-4)
