import numpy as np
import pytest

from tests.conftest import tone
from textpro.acoustics import Tracks, summarize


def harmonic(freq: float, seconds: float, amplitude: float = 0.3) -> np.ndarray:
    """A voice-like harmonic tone (DIO wants harmonics, not a bare sine)."""
    t = np.arange(int(seconds * 16_000)) / 16_000
    wave = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, 8))
    return (amplitude * wave / np.abs(wave).max()).astype(np.float32)


def test_f0_and_energy_of_spans_follow_the_signal():
    low, silence, high = harmonic(120.0, 0.5, 0.1), np.zeros(8_000, np.float32), harmonic(240.0, 0.5, 0.4)
    samples = np.concatenate([low, silence, high])
    whole, (a, gap, b) = summarize(samples, [(0.05, 0.45), (0.55, 0.95), (1.05, 1.45)])
    assert a.f0_mean == pytest.approx(120.0, rel=0.05)
    assert b.f0_mean == pytest.approx(240.0, rel=0.05)
    assert gap.f0_mean is None and gap.voiced == 0.0
    assert b.energy_db - a.energy_db == pytest.approx(20 * np.log10(4), abs=1.0)  # 4x amplitude = +12 dB
    assert gap.energy_db < a.energy_db - 40
    assert whole.duration == pytest.approx(1.5) and a.duration == pytest.approx(0.4)


def test_tracks_have_one_frame_per_5_ms():
    tracks = Tracks.measure(tone(1.0))
    assert abs(len(tracks.f0) - 201) <= 1 and len(tracks.rms) == len(tracks.f0)
