"""Perturbations of a clip: F0 scaling, voice conversion, tempo change, noise at a given SNR, reverb, level,
8 kHz telephone band-limiting and a lossy codec round trip (MP3/OGG).

F0 and tempo use WORLD (pyworld) analysis/resynthesis: the clip is split into F0, spectral envelope and
aperiodicity at a 5 ms hop; scaling F0 changes pitch only, and resynthesising the same frames at a shorter hop
changes duration only. Noise and reverb are plain numpy/scipy. Every random choice comes from the `rng` passed
in, so a seed fixes the result.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from textpro.errors import TextproError

FRAME_MS = 5.0
F0_FLOOR, F0_CEIL = 50.0, 600.0


def _pyworld():
    with warnings.catch_warnings():  # pyworld 0.3.5 imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        import pyworld
    return pyworld


def _world_resynth(samples: np.ndarray, rate: int, *, f0_scale: float = 1.0, tempo: float = 1.0,
                   warp: float = 1.0) -> np.ndarray:
    pw = _pyworld()
    x = samples.astype(np.float64)
    f0, times = pw.dio(x, rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_MS)
    f0 = pw.stonemask(x, f0, times, rate)
    envelope = pw.cheaptrick(x, f0, times, rate)
    aperiodicity = pw.d4c(x, f0, times, rate)
    if warp != 1.0:
        envelope, aperiodicity = warp_frequency(envelope, warp), warp_frequency(aperiodicity, warp)
    # Same frames, hop divided by the tempo factor: the clip gets 1/tempo as long, each frame's pitch unchanged.
    y = pw.synthesize(f0 * f0_scale, envelope, aperiodicity, rate, frame_period=FRAME_MS / tempo)
    # WORLD's output level differs a little from the input's; keep the loudness the clip had.
    y *= _rms(x) / max(_rms(y), 1e-9)
    return y.astype(np.float32)


def scale_f0(samples: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """Multiply the fundamental frequency by `factor` (1.5 = a fifth up), same duration and timbre."""
    if not 0.25 <= factor <= 4.0:
        raise TextproError(f"F0 factor {factor} is outside 0.25..4")
    return _world_resynth(samples, rate, f0_scale=factor)


def warp_frequency(frames: np.ndarray, warp: float) -> np.ndarray:
    """Stretch (frames, bins) spectra along frequency: what was at f moves to f × `warp` (formants up for > 1)."""
    bins = frames.shape[1]
    source = np.clip(np.arange(bins) / warp, 0, bins - 1)
    lo = np.floor(source).astype(int)
    hi = np.minimum(lo + 1, bins - 1)
    frac = source - lo
    out = frames[:, lo] * (1 - frac) + frames[:, hi] * frac
    return np.ascontiguousarray(out)


def convert_voice(samples: np.ndarray, rate: int, f0_factor: float, warp: float) -> np.ndarray:
    """Voice conversion with WORLD: F0 × `f0_factor` and the spectral envelope (formants) stretched by `warp`.

    Male → female: f0_factor ~1.6–1.8 and warp ~1.12–1.2 (women's vocal tracts are shorter, so their formants
    lie higher); female → male: the inverses. f0_factor = warp = 1 is a plain WORLD resynthesis, which gives
    unconverted clips the same vocoder sound as converted ones.
    """
    if not 0.25 <= f0_factor <= 4.0 or not 0.5 <= warp <= 2.0:
        raise TextproError(f"voice conversion f0 x{f0_factor}, warp x{warp} is outside 0.25..4 / 0.5..2")
    return _world_resynth(samples, rate, f0_scale=f0_factor, warp=warp)


def change_tempo(samples: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """Speak `factor` times faster (1.3 → duration / 1.3), same pitch."""
    if not 0.25 <= factor <= 4.0:
        raise TextproError(f"tempo factor {factor} is outside 0.25..4")
    return _world_resynth(samples, rate, tempo=factor)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def coloured_noise(length: int, rng: np.random.Generator, colour: str = "white") -> np.ndarray:
    """Gaussian noise with a flat ('white'), 1/f ('pink') or 1/f² ('brown') power spectrum, unit RMS."""
    white = rng.standard_normal(length)
    if colour != "white":
        exponent = {"pink": 0.5, "brown": 1.0}.get(colour)
        if exponent is None:
            raise TextproError(f"unknown noise colour {colour!r}: white, pink or brown")
        spectrum = np.fft.rfft(white)
        freqs = np.arange(len(spectrum), dtype=np.float64)
        freqs[0] = 1.0
        white = np.fft.irfft(spectrum / freqs**exponent, n=length)
    return (white / max(_rms(white), 1e-12)).astype(np.float32)


def add_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator, colour: str = "white") -> np.ndarray:
    """Add noise so that (clip power) / (noise power) over the whole clip is `snr_db` decibels."""
    noise = coloured_noise(len(samples), rng, colour) * (_rms(samples) / 10 ** (snr_db / 20))
    return (samples + noise).astype(np.float32)


def synthetic_rir(rate: int, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """A room impulse response: a direct path, then Gaussian noise decaying by 60 dB over `rt60` seconds."""
    length = max(1, int(rt60 * rate))
    t = np.arange(length) / rate
    tail = rng.standard_normal(length) * np.exp(-6.9078 * t / rt60)  # ln(1000) = 6.9078 → -60 dB at rt60
    tail[: int(0.002 * rate)] = 0.0  # first reflections arrive a couple of ms after the direct sound
    tail *= 0.3 / max(np.sqrt(np.sum(tail**2)), 1e-12)  # reverberant energy ~ -10 dB of the direct path
    tail[0] = 1.0
    return tail


def add_reverb(samples: np.ndarray, rate: int, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """Convolve with a synthetic room response of reverberation time `rt60` s; same length and RMS."""
    from scipy.signal import fftconvolve

    wet = fftconvolve(samples.astype(np.float64), synthetic_rir(rate, rt60, rng))[: len(samples)]
    wet *= _rms(samples) / max(_rms(wet), 1e-12)
    return wet.astype(np.float32)


def change_level(samples: np.ndarray, gain_db: float) -> np.ndarray:
    """Multiply by `gain_db` decibels (a quiet or loud recording)."""
    return (samples * 10 ** (gain_db / 20)).astype(np.float32)


def telephone(samples: np.ndarray, rate: int) -> np.ndarray:
    """8 kHz narrow-band telephone: resample to 8 kHz, band-pass 300–3400 Hz, resample back to `rate`."""
    import soxr
    from scipy.signal import butter, sosfilt

    narrow = soxr.resample(samples.astype(np.float32), rate, 8000)
    sos = butter(4, [300, 3400], btype="bandpass", fs=8000, output="sos")
    narrow = sosfilt(sos, narrow).astype(np.float32)
    wide = soxr.resample(narrow, 8000, rate).astype(np.float32)
    return _fit(wide, len(samples))


def codec_round_trip(samples: np.ndarray, rate: int, codec: str = "mp3") -> np.ndarray:
    """Encode to MP3 or OGG (Vorbis) in memory with soundfile/libsndfile and decode again; same length."""
    import io

    import soundfile as sf

    formats = {"mp3": ("MP3", "MPEG_LAYER_III"), "ogg": ("OGG", "VORBIS")}
    if codec not in formats:
        raise TextproError(f"unknown codec {codec!r}: mp3 or ogg")
    buffer = io.BytesIO()
    fmt, subtype = formats[codec]
    sf.write(buffer, np.clip(samples, -1, 1), rate, format=fmt, subtype=subtype)
    buffer.seek(0)
    decoded, decoded_rate = sf.read(buffer, dtype="float32")
    if decoded.ndim > 1:
        decoded = decoded.mean(axis=1)
    if decoded_rate != rate:
        import soxr

        decoded = soxr.resample(decoded, decoded_rate, rate).astype(np.float32)
    return _fit(decoded, len(samples))


def _fit(samples: np.ndarray, length: int) -> np.ndarray:
    """Trim or zero-pad to `length` samples (resampling and codecs add or drop a few)."""
    if len(samples) >= length:
        return samples[:length].astype(np.float32)
    return np.pad(samples, (0, length - len(samples))).astype(np.float32)


@dataclass
class Condition:
    """A recording condition of a training clip: level change, noise, reverb, telephone band, codec round trip.

    Durations and word times are unchanged by all of them. Applied in the order reverb, telephone, noise,
    codec, level (a room, a line, background noise, then the encoder and the recording level).
    """

    gain_db: float = 0.0
    rt60: float = 0.0
    telephone: bool = False
    snr_db: float | None = None
    noise_colour: str = "white"
    codec: str | None = None  # "mp3" / "ogg"

    def apply(self, samples: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        if self.rt60 > 0:
            samples = add_reverb(samples, rate, self.rt60, rng)
        if self.telephone:
            samples = telephone(samples, rate)
        if self.snr_db is not None:
            samples = add_noise(samples, self.snr_db, rng, self.noise_colour)
        if self.codec:
            samples = codec_round_trip(samples, rate, self.codec)
        if self.gain_db:
            samples = change_level(samples, self.gain_db)
        return _limit(samples)

    def kinds(self) -> list[str]:
        return [name for name, on in [("reverb", self.rt60 > 0), ("telephone", self.telephone),
                                      ("noise", self.snr_db is not None), ("codec", bool(self.codec)),
                                      ("level", bool(self.gain_db))] if on]

    def to_dict(self) -> dict:
        return {"kinds": self.kinds(), **asdict(self)}


@dataclass
class Perturbation:
    """One robustness condition, applied in this order: tempo, reverb, noise. Neutral values skip a step."""

    tempo: float = 1.0
    rt60: float = 0.0  # seconds; 0 = no reverb
    snr_db: float | None = None  # None = no noise
    noise_colour: str = "white"

    def apply(self, samples: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        if self.tempo != 1.0:
            samples = change_tempo(samples, rate, self.tempo)
        if self.rt60 > 0:
            samples = add_reverb(samples, rate, self.rt60, rng)
        if self.snr_db is not None:
            samples = add_noise(samples, self.snr_db, rng, self.noise_colour)
        return _limit(samples)

    def to_dict(self) -> dict:
        return asdict(self)


def _limit(samples: np.ndarray) -> np.ndarray:
    """Scale down (never up) so that the peak stays below full scale when written as 16-bit audio."""
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    return samples * (0.99 / peak) if peak > 0.99 else samples
