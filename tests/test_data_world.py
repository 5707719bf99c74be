"""The wider mini world: voice conversion, recording conditions, engines, phrasings and spoken requests."""

from __future__ import annotations

import numpy as np
import pytest

from textpro.acoustics import Tracks
from textpro.audio import SAMPLE_RATE
from textpro.data import paralinguistic, requests
from textpro.data.perturb import Condition, codec_round_trip, convert_voice, telephone
from textpro.data.synth import engine_available, synthesize_espeak, synthesize_festival, synthesize_flite
from textpro.errors import TextproError

TEXT = "The weather report said it would be cloudy tomorrow afternoon."


def median_f0(samples: np.ndarray) -> float:
    f0 = Tracks.measure(samples).f0
    return float(np.median(f0[f0 > 0]))


def centroid(samples: np.ndarray) -> float:
    """Spectral centroid (Hz) of the 200–5000 Hz band over the clip's non-silent frames."""
    from scipy.signal import stft

    freqs, _, spec = stft(samples, SAMPLE_RATE, nperseg=512)
    power = np.abs(spec) ** 2
    band = (freqs >= 200) & (freqs <= 5000)
    frames = power.sum(axis=0) > power.sum(axis=0).max() * 1e-3
    p = power[band][:, frames]
    return float((freqs[band, None] * p).sum() / p.sum())


@pytest.fixture(scope="module")
def voices():
    return {v: synthesize_espeak(TEXT, variant=v).resampled(SAMPLE_RATE).samples for v in ("m3", "f3")}


def test_conversion_moves_f0_and_formants_the_way_the_label_says(voices):
    male, female = voices["m3"], voices["f3"]
    # Compared with a plain WORLD resynthesis, so that only the conversion differs.
    male_plain, female_plain = convert_voice(male, SAMPLE_RATE, 1.0, 1.0), convert_voice(female, SAMPLE_RATE, 1, 1)
    to_female = convert_voice(male, SAMPLE_RATE, 1.7, 1.16)
    to_male = convert_voice(female, SAMPLE_RATE, 1 / 1.7, 1 / 1.16)
    assert median_f0(male_plain) == pytest.approx(median_f0(male), rel=0.03)
    assert median_f0(to_female) / median_f0(male_plain) == pytest.approx(1.7, rel=0.08)
    assert median_f0(to_male) / median_f0(female_plain) == pytest.approx(1 / 1.7, rel=0.08)
    assert centroid(to_female) > 1.08 * centroid(male_plain)
    assert centroid(to_male) < 0.92 * centroid(female_plain)
    # Formant warping alone (no F0 change) moves the spectrum too.
    assert centroid(convert_voice(male, SAMPLE_RATE, 1.0, 1.16)) > 1.08 * centroid(male_plain)
    assert len(to_female) == pytest.approx(len(male), rel=0.01)
    with pytest.raises(TextproError):
        convert_voice(male, SAMPLE_RATE, 1.7, 3.0)


def test_recording_conditions(voices):
    clip = voices["m3"]
    phone = telephone(clip, SAMPLE_RATE)
    spectrum = np.abs(np.fft.rfft(phone)) ** 2
    freqs = np.fft.rfftfreq(len(phone), 1 / SAMPLE_RATE)
    assert len(phone) == len(clip)
    assert spectrum[freqs > 4000].sum() < 1e-4 * spectrum.sum()
    assert spectrum[freqs < 200].sum() < 0.02 * spectrum.sum()
    for codec in ("mp3", "ogg"):
        decoded = codec_round_trip(clip, SAMPLE_RATE, codec)
        assert len(decoded) == len(clip) and not np.allclose(decoded, clip)
        assert np.corrcoef(decoded, clip)[0, 1] > 0.9  # libsndfile removes the encoder delay: times stay aligned
    condition = Condition(gain_db=-12.0, rt60=0.3, telephone=True, snr_db=15.0, noise_colour="pink", codec="ogg")
    a = condition.apply(clip, SAMPLE_RATE, np.random.default_rng(1))
    b = condition.apply(clip, SAMPLE_RATE, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert condition.to_dict()["kinds"] == ["reverb", "telephone", "noise", "codec", "level"]
    quiet = Condition(gain_db=-20.0).apply(clip, SAMPLE_RATE, np.random.default_rng(0))
    assert np.sqrt(np.mean(quiet**2)) == pytest.approx(0.1 * np.sqrt(np.mean(clip**2)), rel=0.01)


def test_phrasings_are_many_disjoint_and_answer_in_the_right_form():
    for task in paralinguistic.TASKS:
        sets = {split: {p.text for p in paralinguistic.phrasings_for(task, split)}
                for split in ("train", "dev", "test")}
        assert sum(len(v) for v in sets.values()) >= 30, task
        assert not sets["train"] & sets["dev"] and not sets["train"] & sets["test"] and not sets["dev"] & sets["test"]
        for split in ("train", "dev", "test"):
            forms = {p.form for p in paralinguistic.phrasings_for(task, split)}
            assert forms == set(paralinguistic.FORMS), (task, split)
        for p in paralinguistic.phrasings_for(task, "train"):
            assert all(label in paralinguistic.LABELS[task] for label in p.asks)
        assert set(paralinguistic.SYNONYMS[task]) == set(paralinguistic.LABELS[task])
        assert all(words[0] == label for label, words in paralinguistic.SYNONYMS[task].items())
    assert paralinguistic.phrasings_for("rate", "test_unseen") == paralinguistic.phrasings_for("rate", "test")
    assert paralinguistic.phrasings_for("rate", "dev_unseen") == paralinguistic.phrasings_for("rate", "dev")
    woman = next(p for p in paralinguistic.phrasings_for("gender", "train") if p.text == "Is this a woman speaking?")
    assert woman.target("male") == "Male, so no." and woman.target("female") == "Female, so yes."
    two_way = next(p for p in paralinguistic.phrasings_for("rate", "test")
                   if p.text == "Is the speaker talking fast or slowly?")
    assert two_way.accepts("fast") and not two_way.accepts("normal") and two_way.target("slow") == "slow"
    rng = np.random.default_rng(0)
    drawn = [paralinguistic.choose_phrasing("rate", "train", "normal", rng) for _ in range(300)]
    assert all(p.accepts("normal") for p in drawn) and {p.form for p in drawn} == set(paralinguistic.FORMS)
    answers = [p.target("normal") for p in drawn if p.form == "yes_no"]
    assert 0.3 < np.mean([a.endswith("yes.") for a in answers]) < 0.7


def test_requests_are_many_and_split_disjoint():
    by_split = {split: [text for _, text in requests.requests_for(split)] for split in requests.REQUEST_SPLITS}
    assert len(set(by_split["train"])) >= 300 and len(set(by_split["test_unseen"])) >= 60
    texts = [t for v in by_split.values() for t in v]
    assert len(texts) == len(set(texts))
    families = {family for family, _ in requests.requests_for("test_unseen")}
    assert families >= {"how_to", "why", "explain", "chat"}


def test_reserved_festival_voices_are_refused():
    for voice in ("slt", "kal", "cmu_us_slt_arctic_hts"):
        with pytest.raises(TextproError, match="not a training voice"):
            synthesize_festival("Hello.", voice=voice)


@pytest.mark.skipif(not engine_available("festival"), reason="festival is not on PATH (make install installs it)")
def test_festival_ked_speaks_and_stretches():
    slow = synthesize_festival(TEXT, duration_stretch=1.4)
    plain = synthesize_festival(TEXT)
    assert plain.sample_rate == 16000 and plain.params["engine"] == "festival" and plain.params["gender"] == "male"
    assert slow.duration > 1.25 * plain.duration
    assert all(w.start is None for w in plain.words)


@pytest.mark.skipif(not engine_available("flite"), reason="flite is not on PATH (make install installs it)")
def test_flite_pitch_target_moves_median_f0():
    low = synthesize_flite(TEXT, voice="kal16", f0_mean=100.0).resampled(SAMPLE_RATE)
    high = synthesize_flite(TEXT, voice="kal16", f0_mean=250.0).resampled(SAMPLE_RATE)
    assert paralinguistic.pitch_band(median_f0(low.samples)) == "low"
    assert paralinguistic.pitch_band(median_f0(high.samples)) == "high"
    assert synthesize_flite(TEXT, voice="slt", duration_stretch=1.5).duration > 1.3 * synthesize_flite(TEXT).duration
