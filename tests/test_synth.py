"""Speech synthesis controls and perturbations do what they say, measured on the waveform."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from textpro.acoustics import Tracks
from textpro.audio import SAMPLE_RATE
from textpro.data.perturb import Perturbation, add_noise, add_reverb, change_tempo, scale_f0
from textpro.data.synth import ACCENTS, EspeakProsody, synthesize_espeak
from textpro.errors import TextproError

TEXT = "The weather report said it would be cloudy tomorrow afternoon."


def clip(**kwargs):
    return synthesize_espeak(TEXT, **kwargs).resampled(SAMPLE_RATE)


def median_f0(samples: np.ndarray) -> float:
    f0 = Tracks.measure(samples).f0
    return float(np.median(f0[f0 > 0]))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def test_word_times_are_monotonic_inside_the_clip():
    result = synthesize_espeak("I never said she stole my money, did I?", variant="f3")
    assert [w.text for w in result.words] == ["I", "never", "said", "she", "stole", "my", "money", "did", "I"]
    starts = [w.start for w in result.words]
    assert starts == sorted(starts) and starts[0] == 0.0
    for word, following in zip(result.words, result.words[1:], strict=False):
        assert word.start < word.end <= following.start + 1e-6
    assert result.words[-1].end <= result.duration


def test_emphasis_lengthens_the_word_and_keeps_times_aligned():
    plain = synthesize_espeak("I never said she stole my money.")
    stressed = synthesize_espeak("I never said she stole my money.", emphasis={5})
    length = lambda r: r.words[5].end - r.words[5].start  # noqa: E731
    assert [w.text for w in stressed.words] == [w.text for w in plain.words]
    assert length(stressed) > 1.3 * length(plain)


def test_pitch_rate_volume_and_voice_move_the_measurements():
    assert median_f0(clip(prosody=EspeakProsody(pitch=85)).samples) > \
        1.4 * median_f0(clip(prosody=EspeakProsody(pitch=15)).samples)
    assert clip(prosody=EspeakProsody(rate=110)).duration > 1.8 * clip(prosody=EspeakProsody(rate=260)).duration
    loud, soft = clip(prosody=EspeakProsody(volume=180)), clip(prosody=EspeakProsody(volume=50))
    assert rms(loud.samples) > 2 * rms(soft.samples)
    assert median_f0(clip(variant="f3").samples) > 1.6 * median_f0(clip(variant="m3").samples)


def test_accents_speak_different_phonemes():
    from textpro.data.espeak import phonemes

    spoken = {accent: phonemes("I can't find the car park after the party.", voice) for accent, voice in
              ACCENTS.items()}
    assert len(set(spoken.values())) == len(ACCENTS)
    for accent in ACCENTS:
        assert clip(accent=accent).duration > 1.0


def test_bad_settings_raise_typed_errors():
    with pytest.raises(TextproError):
        synthesize_espeak(TEXT, variant="no-such-variant")
    with pytest.raises(TextproError):
        EspeakProsody(rate=5)
    with pytest.raises(TextproError):
        synthesize_espeak("   ")


def test_threads_share_the_engine_safely():
    expected = {v: clip(variant=v).samples for v in ("m1", "f2", "m7", "f4")}
    results: dict = {}

    def run(variant):
        results[variant] = clip(variant=variant).samples

    threads = [threading.Thread(target=run, args=(v,)) for v in expected for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Interleaved calls from threads must not mix clips: each result is its own voice's clip (lengths agree
    # to ~1%: espeak carries a little wave-generator state from one clip to the next).
    for variant, samples in expected.items():
        assert len(results[variant]) == pytest.approx(len(samples), rel=0.02)
        assert median_f0(results[variant]) == pytest.approx(median_f0(samples), rel=0.05)


def test_piper_without_noise_speaks_the_same_samples_twice():
    """Piper samples noise inside onnxruntime: the same sentence differs run to run (and Whisper may hear a word
    differently, which failed a CI run); noise=False gives the same audio every time."""
    from textpro.data.synth import synthesize_piper

    text = "The same words, the same voice."
    first, second = (synthesize_piper(text, noise=False)[0] for _ in range(2))
    assert np.array_equal(first, second)
    noisy = [synthesize_piper(text)[0] for _ in range(2)]
    assert not (len(noisy[0]) == len(noisy[1]) and np.array_equal(*noisy))


@pytest.fixture(scope="module")
def male_clip():
    return clip(variant="m3").samples


def test_f0_scaling_raises_median_f0_keeps_length(male_clip):
    scaled = scale_f0(male_clip, SAMPLE_RATE, 1.5)
    assert abs(len(scaled) - len(male_clip)) < 0.01 * len(male_clip)
    assert median_f0(scaled) / median_f0(male_clip) == pytest.approx(1.5, rel=0.05)


def test_tempo_shortens_keeps_pitch(male_clip):
    faster = change_tempo(male_clip, SAMPLE_RATE, 1.3)
    assert len(male_clip) / len(faster) == pytest.approx(1.3, rel=0.02)
    assert median_f0(faster) == pytest.approx(median_f0(male_clip), rel=0.05)


@pytest.mark.parametrize("colour", ["white", "pink", "brown"])
def test_noise_is_added_at_the_requested_snr(male_clip, colour):
    noisy = add_noise(male_clip, 5.0, np.random.default_rng(0), colour)
    noise = noisy.astype(np.float64) - male_clip
    assert 20 * np.log10(rms(male_clip) / rms(noise)) == pytest.approx(5.0, abs=0.05)


def test_reverb_and_perturbations_are_deterministic(male_clip):
    wet = add_reverb(male_clip, SAMPLE_RATE, 0.5, np.random.default_rng(1))
    assert len(wet) == len(male_clip) and rms(wet) == pytest.approx(rms(male_clip), rel=1e-3)
    assert not np.allclose(wet, male_clip)
    condition = Perturbation(tempo=0.9, rt60=0.3, snr_db=10.0, noise_colour="pink")
    a = condition.apply(male_clip, SAMPLE_RATE, np.random.default_rng(7))
    b = condition.apply(male_clip, SAMPLE_RATE, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert len(a) == pytest.approx(len(male_clip) / 0.9, rel=0.02)
