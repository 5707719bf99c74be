"""Audio input: read a path, bytes or an array; check it; return mono 16 kHz float32. The audio constants live
here, once (as in openai/whisper's audio.py), with the one log-mel batching helper (`log_mel_batch`).

Every way a user's audio can be unusable raises `AudioError` with a one-line message, so the CLI and the server
can report it and carry on. The maximum duration defaults to 30 s (Whisper's window); change it per call with
`max_seconds=`, on the CLI with `--max-seconds`, or for a whole process with the environment variable
`TEXTPRO_MAX_AUDIO_SECONDS`. `max_seconds=None` (or `inf`) lifts the limit (long audio is split into segments
further down the pipeline).
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from textpro.errors import AudioError

SAMPLE_RATE = 16_000  # what Whisper expects
HOP_SAMPLES = 160  # one mel frame = 10 ms
WINDOW_SECONDS = 30.0  # Whisper's window: its encoder reads at most this much audio at once
MIN_SECONDS = 0.1
# Two different limits on how long audio may be:
DEFAULT_MAX_AUDIO_SECONDS = WINDOW_SECONDS  # `load_audio`'s default (one utterance: CLI, server, chat); see above
TRANSCRIBE_MAX_SECONDS = 600.0  # the longest audio `Transcriber.transcribe` accepts unless told (cut at pauses)
MIN_INPUT_RATE, MAX_INPUT_RATE = 1_000, 768_000  # outside this, the "sample rate" is a mistake, not audio
SILENCE_PEAK = 1e-4  # -80 dBFS: below this everywhere, there is nothing to transcribe (Whisper would invent text)
MAX_CHANNELS = 64

AudioSource = str | os.PathLike | bytes | bytearray | memoryview | np.ndarray


def default_max_seconds() -> float:
    """The process-wide maximum utterance length: $TEXTPRO_MAX_AUDIO_SECONDS, else 30 s."""
    raw = os.environ.get("TEXTPRO_MAX_AUDIO_SECONDS")
    if raw is None or raw == "":
        return DEFAULT_MAX_AUDIO_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise AudioError(f"TEXTPRO_MAX_AUDIO_SECONDS={raw!r} is not a number of seconds") from None
    if not value > 0:
        raise AudioError(f"TEXTPRO_MAX_AUDIO_SECONDS={raw!r} must be positive")
    return value


def load_audio(
    source: AudioSource,
    sample_rate: int | None = None,
    *,
    max_seconds: float | None | str = "default",
    name: str | None = None,
) -> np.ndarray:
    """Return `source` as a mono 16 kHz float32 array of shape (samples,).

    source: a file path (WAV/FLAC/OGG/MP3, anything libsndfile reads), the bytes of such a file, or a numpy array
        of samples with `sample_rate` given. Arrays are (samples,) or (samples, channels); a 2-D array whose first
        axis is much shorter (≤ 8) is taken as (channels, samples). Integer arrays are scaled from their full range.
    max_seconds: reject audio longer than this; "default" reads `default_max_seconds()`; None lifts the limit.
    name: how to call the input in error messages (defaults to the path, or "audio bytes" / "audio array").
    """
    if isinstance(max_seconds, str):
        if max_seconds != "default":
            raise AudioError(f"max_seconds must be a number, None or 'default', not {max_seconds!r}")
        max_seconds = default_max_seconds()
    if max_seconds is not None:
        if not max_seconds > 0:
            raise AudioError(f"max_seconds must be positive, got {max_seconds}")
        if math.isinf(max_seconds):
            max_seconds = None

    if isinstance(source, np.ndarray):
        label = name or "audio array"
        if sample_rate is None:
            raise AudioError(f"{label}: a numpy array needs its sample_rate")
        samples, rate = _array_to_float(source, label), _check_rate(sample_rate, label)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "audio bytes"
        samples, rate = _read_file(io.BytesIO(bytes(source)), label, max_seconds)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = name or str(path)
        if not path.exists():
            raise AudioError(f"{label}: no such file")
        if path.is_dir():
            raise AudioError(f"{label}: is a directory, not an audio file")
        samples, rate = _read_file(path, label, max_seconds)
    else:
        raise AudioError(f"cannot read audio from a {type(source).__name__}; give a path, bytes or a numpy array")

    return _check_and_resample(samples, rate, label, max_seconds)


def _check_rate(sample_rate, label: str) -> int:
    try:
        rate = float(sample_rate)
    except (TypeError, ValueError):
        raise AudioError(f"{label}: sample rate {sample_rate!r} is not a number") from None
    if not math.isfinite(rate) or rate != int(rate) or not MIN_INPUT_RATE <= rate <= MAX_INPUT_RATE:
        raise AudioError(
            f"{label}: sample rate {sample_rate!r} Hz is not plausible "
            f"(expected a whole number in {MIN_INPUT_RATE}..{MAX_INPUT_RATE})"
        )
    return int(rate)


def _read_file(file, label: str, max_seconds: float | None) -> tuple[np.ndarray, int]:
    """Read with libsndfile; check length from the header before decoding, so a 3-hour file costs nothing."""
    try:
        info = sf.info(file)
        if isinstance(file, io.BytesIO):
            file.seek(0)
        rate = _check_rate(info.samplerate, label)
        if info.channels < 1 or info.channels > MAX_CHANNELS:
            raise AudioError(f"{label}: {info.channels} channels is not plausible audio")
        # MP3 headers may not carry an exact frame count; the decoded length is checked again below.
        if max_seconds is not None and 0 < info.frames < 2**62 and info.frames / rate > max_seconds:
            raise _too_long(label, info.frames / rate, max_seconds)
        samples, rate = sf.read(file, dtype="float32", always_2d=True)
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, OSError, EOFError, OverflowError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AudioError(f"{label}: not readable audio (WAV/FLAC/OGG/MP3 expected): {reason}") from None
    return samples, rate


def _array_to_float(array: np.ndarray, label: str) -> np.ndarray:
    """Any real numeric (samples,) or (samples, channels) array -> float32 (samples, channels)."""
    if array.dtype.kind == "i" or array.dtype.kind == "u":
        info = np.iinfo(array.dtype)
        midpoint = (int(info.max) + int(info.min) + 1) / 2  # 0 for signed, 2**(bits-1) for unsigned
        array = (array.astype(np.float64) - midpoint) / (int(info.max) - midpoint + 1)
    elif array.dtype.kind == "b":
        raise AudioError(f"{label}: a boolean array is not audio")
    elif array.dtype.kind != "f":
        raise AudioError(f"{label}: dtype {array.dtype} is not audio samples (expected float or integer)")
    if array.ndim == 1:
        array = array[:, None]
    elif array.ndim == 2:
        if array.shape[0] <= 8 and array.shape[1] > array.shape[0]:
            array = array.T  # (channels, samples) -> (samples, channels)
        if array.shape[1] > MAX_CHANNELS:
            raise AudioError(f"{label}: {array.shape[1]} channels is not plausible audio")
    else:
        raise AudioError(f"{label}: expected a 1-D or 2-D array of samples, got shape {array.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        return array.astype(np.float32)


def _check_and_resample(samples: np.ndarray, rate: int, label: str, max_seconds: float | None) -> np.ndarray:
    if samples.size == 0 or samples.shape[0] == 0:
        raise AudioError(f"{label}: empty audio (no samples)")
    if not np.isfinite(samples).all():
        raise AudioError(f"{label}: contains NaN or infinite samples")
    seconds = samples.shape[0] / rate
    if seconds < MIN_SECONDS:
        raise AudioError(f"{label}: {seconds:.3f} s is too short (at least {MIN_SECONDS} s)")
    if max_seconds is not None and seconds > max_seconds:
        raise _too_long(label, seconds, max_seconds)
    mono = samples.mean(axis=1, dtype=np.float64).astype(np.float32)
    if not np.abs(mono).max() >= SILENCE_PEAK:
        raise AudioError(f"{label}: all silence (peak below -80 dBFS)")
    if rate != SAMPLE_RATE:
        mono = soxr.resample(mono, rate, SAMPLE_RATE, quality="HQ").astype(np.float32, copy=False)
    return np.ascontiguousarray(mono)


def _too_long(label: str, seconds: float, max_seconds: float) -> AudioError:
    return AudioError(
        f"{label}: {seconds:.1f} s is longer than the {max_seconds:g} s maximum "
        "(raise it with --max-seconds or TEXTPRO_MAX_AUDIO_SECONDS)"
    )


def duration_seconds(samples: np.ndarray) -> float:
    """Length of a 16 kHz array returned by `load_audio`."""
    return samples.shape[0] / SAMPLE_RATE


def log_mel_batch(feature_extractor, clips):
    """Log-mel of 16 kHz clips as one padded batch: (features (B, n_mels, T), frame mask (B, T) int64 with 1 on a
    clip's own frames, frames per clip).

    Each clip's mel is computed alone (as it would be one by one: its own loudness normalisation and its own STFT
    edges), then zero-padded on the right to the batch's longest; the padded frames are what the mask hides.
    feature_extractor: a Whisper feature extractor (`WhisperProcessor.feature_extractor`)."""
    import torch

    mels = [feature_extractor(clip, sampling_rate=SAMPLE_RATE, padding="longest", return_tensors="pt")
            .input_features[0] for clip in clips]  # each (n_mels, T_i)
    frames = [m.shape[-1] for m in mels]
    longest = max(frames)
    features = torch.stack([torch.nn.functional.pad(m, (0, longest - m.shape[-1])) for m in mels])
    mask = (torch.arange(longest)[None] < torch.tensor(frames)[:, None]).long()
    return features, mask, frames
