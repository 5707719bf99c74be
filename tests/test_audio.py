import io

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.conftest import tone
from textpro.audio import SAMPLE_RATE, load_audio
from textpro.errors import AudioError


def encode(samples: np.ndarray, rate: int, fmt: str, subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["WAV", "FLAC", "OGG", "MP3"])
def test_reads_every_format_from_path_and_bytes(tmp_path, fmt):
    data = encode(tone(1.0, 44_100), 44_100, fmt)
    path = tmp_path / f"clip.{fmt.lower()}"
    path.write_bytes(data)
    for source in (path, str(path), data):
        samples = load_audio(source)
        assert samples.dtype == np.float32 and samples.ndim == 1
        assert abs(len(samples) - SAMPLE_RATE) < 0.05 * SAMPLE_RATE  # ~1 s at 16 kHz (MP3 adds padding)
        assert 0.15 < np.abs(samples).max() < 0.45


def test_resamples_and_keeps_the_signal():
    samples = load_audio(tone(2.0, 48_000, freq=440.0), 48_000)
    assert len(samples) == 2 * SAMPLE_RATE
    spectrum = np.abs(np.fft.rfft(samples))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(samples)
    assert abs(peak_hz - 440.0) < 2.0


def test_stereo_and_channel_first_arrays_become_mono():
    left, right = tone(1.0, 22_050, 200.0), tone(1.0, 22_050, 300.0)
    frames_first = np.stack([left, right], axis=1)  # (samples, 2)
    channels_first = frames_first.T  # (2, samples)
    a, b = load_audio(frames_first, 22_050), load_audio(channels_first, 22_050)
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(a, load_audio((left + right) / 2, 22_050), atol=1e-6)


def test_integer_arrays_are_scaled_from_full_range():
    pcm16 = (tone(1.0) * 32767).astype(np.int16)
    np.testing.assert_allclose(load_audio(pcm16, SAMPLE_RATE), tone(1.0), atol=1e-4)
    pcm8u = (np.round(tone(1.0) * 128) + 128).astype(np.uint8)
    np.testing.assert_allclose(load_audio(pcm8u, SAMPLE_RATE), tone(1.0), atol=1.01 / 128)  # 8-bit step


# One test per AudioError case ----------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        load_audio(tmp_path / "missing.wav")


def test_directory(tmp_path):
    with pytest.raises(AudioError, match="directory"):
        load_audio(tmp_path)


def test_non_audio_file(tmp_path):
    text = tmp_path / "README.md"
    text.write_text("# not audio\n" * 50)
    with pytest.raises(AudioError, match="not readable audio"):
        load_audio(text)


def test_non_audio_bytes():
    with pytest.raises(AudioError, match="not readable audio"):
        load_audio(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")


def test_truncated_wav():
    data = encode(tone(1.0), SAMPLE_RATE, "WAV")
    with pytest.raises(AudioError):
        load_audio(data[:30])


def test_empty_array_and_empty_file(tmp_path):
    with pytest.raises(AudioError, match="empty"):
        load_audio(np.zeros(0, np.float32), SAMPLE_RATE)
    with pytest.raises(AudioError, match="empty|not readable"):
        load_audio(encode(np.zeros(0, np.float32), SAMPLE_RATE, "WAV"))
    with pytest.raises(AudioError, match="not readable"):
        load_audio(b"")


def test_too_short():
    with pytest.raises(AudioError, match="too short"):
        load_audio(tone(0.05), SAMPLE_RATE)


def test_all_silence():
    with pytest.raises(AudioError, match="silence"):
        load_audio(np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE)
    with pytest.raises(AudioError, match="silence"):
        load_audio(encode(np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE, "WAV", "PCM_16"))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf(bad):
    samples = tone(1.0)
    samples[100] = bad
    with pytest.raises(AudioError, match="NaN or infinite"):
        load_audio(samples, SAMPLE_RATE)


@pytest.mark.parametrize("rate", [0, -16000, 10, 1e9, 16000.5, float("nan"), "fast", None])
def test_absurd_sample_rate(rate):
    with pytest.raises(AudioError, match="sample rate|needs its sample_rate"):
        load_audio(tone(1.0), rate)


def test_absurd_sample_rate_in_a_file_header():
    data = bytearray(encode(tone(1.0), SAMPLE_RATE, "WAV", "PCM_16"))
    data[24:28] = (7).to_bytes(4, "little")  # WAV fmt chunk: sample rate field
    with pytest.raises(AudioError, match="sample rate|not readable"):
        load_audio(bytes(data))


def test_too_long_default_and_configurable(monkeypatch):
    long_clip = tone(31.0, 8_000)
    with pytest.raises(AudioError, match="longer than the 30 s maximum"):
        load_audio(long_clip, 8_000)
    assert len(load_audio(long_clip, 8_000, max_seconds=60)) == 31 * SAMPLE_RATE
    assert len(load_audio(long_clip, 8_000, max_seconds=None)) == 31 * SAMPLE_RATE
    monkeypatch.setenv("TEXTPRO_MAX_AUDIO_SECONDS", "10")
    with pytest.raises(AudioError, match="longer than the 10 s maximum"):
        load_audio(tone(11.0), SAMPLE_RATE)


def test_too_long_file_is_refused_from_its_header(tmp_path):
    path = tmp_path / "long.flac"
    sf.write(path, tone(40.0, 8_000), 8_000)
    with pytest.raises(AudioError, match="40.0 s is longer"):
        load_audio(path)


@pytest.mark.parametrize("array", [np.zeros((2, 2, 100), np.float32), np.array(0.5, np.float32),
                                   np.ones(16000, bool), np.ones(16000, complex), np.array(["a"] * 16000)])
def test_arrays_that_are_not_audio(array):
    with pytest.raises(AudioError):
        load_audio(array, SAMPLE_RATE)


def test_unsupported_source_type():
    with pytest.raises(AudioError, match="cannot read audio from a list"):
        load_audio([0.1, 0.2])


# Property-based: whatever arrives, the loader returns valid audio or raises AudioError ------------------------

def _check_valid(samples):
    assert samples.dtype == np.float32 and samples.ndim == 1 and len(samples) > 0
    assert np.isfinite(samples).all()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash(data):
    try:
        _check_valid(load_audio(data))
    except AudioError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=1, max_size=2048), st.sampled_from(["WAV", "FLAC", "OGG"]))
def test_corrupted_real_files_never_crash(noise, fmt):
    data = bytearray(encode(tone(0.5), SAMPLE_RATE, fmt))
    start = len(data) // 3
    data[start:start + len(noise)] = noise  # overwrite part of a real file
    try:
        _check_valid(load_audio(bytes(data)))
    except AudioError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arrays(
        dtype=st.sampled_from([np.float32, np.float64, np.int16, np.int32, np.uint8, np.float16]),
        shape=st.one_of(st.tuples(st.integers(0, 6000)), st.tuples(st.integers(0, 3000), st.integers(1, 4)),
                        st.tuples(st.integers(1, 4), st.integers(0, 3000))),
    ),
    st.one_of(st.integers(-10, 400_000), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_random_arrays_never_crash(array, rate):
    try:
        _check_valid(load_audio(array, rate))
    except AudioError:
        pass
