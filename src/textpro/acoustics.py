"""Acoustic measurements over spans of audio (words, utterances): duration, F0 and energy, for people to read.

These are measured from the waveform (pyworld DIO + StoneMask for F0, RMS for energy), independent of any model,
so a transcript's words can be shown with how they were actually said.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from textpro.audio import SAMPLE_RATE

FRAME_SECONDS = 0.005  # pyworld's default 5 ms hop
F0_FLOOR, F0_CEIL = 60.0, 500.0  # speech range; outside it DIO mostly finds noise


@dataclass
class SpanProsody:
    start: float
    end: float
    duration: float  # seconds
    f0_mean: float | None  # Hz over voiced frames, None when the span has no voiced frame
    f0_min: float | None
    f0_max: float | None
    voiced: float  # fraction of frames that are voiced
    energy_db: float  # RMS level in dBFS

    def to_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class Tracks:
    """Frame-level F0 (0 = unvoiced) and RMS energy at a 5 ms hop, computed once per clip."""

    f0: np.ndarray  # (frames,) Hz
    rms: np.ndarray  # (frames,) linear amplitude

    @classmethod
    def measure(cls, samples: np.ndarray) -> Tracks:
        with warnings.catch_warnings():  # pyworld 0.3.5 imports the deprecated pkg_resources
            warnings.simplefilter("ignore")
            import pyworld

        x = samples.astype(np.float64)
        f0, times = pyworld.dio(x, SAMPLE_RATE, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL,
                                frame_period=FRAME_SECONDS * 1000)
        f0 = pyworld.stonemask(x, f0, times, SAMPLE_RATE)
        hop = int(FRAME_SECONDS * SAMPLE_RATE)
        # RMS over a 25 ms window centred on each F0 frame
        padded = np.pad(x, (2 * hop, 2 * hop + hop))
        windows = np.lib.stride_tricks.sliding_window_view(padded, 5 * hop)[::hop][: len(f0)]
        rms = np.sqrt(np.mean(windows**2, axis=1))
        return cls(f0=f0.astype(np.float32), rms=rms.astype(np.float32))

    def span(self, start: float, end: float) -> SpanProsody:
        lo = max(0, int(round(start / FRAME_SECONDS)))
        hi = max(lo + 1, min(len(self.f0), int(round(end / FRAME_SECONDS))))
        f0, rms = self.f0[lo:hi], self.rms[lo:hi]
        voiced = f0[f0 > 0]
        energy = float(20 * np.log10(np.sqrt(np.mean(rms.astype(np.float64) ** 2)) + 1e-10)) if len(rms) else -200.0
        return SpanProsody(
            start=start, end=end, duration=max(0.0, end - start),
            f0_mean=float(voiced.mean()) if len(voiced) else None,
            f0_min=float(voiced.min()) if len(voiced) else None,
            f0_max=float(voiced.max()) if len(voiced) else None,
            voiced=float(len(voiced) / len(f0)) if len(f0) else 0.0,
            energy_db=energy,
        )


def summarize(samples: np.ndarray, spans: list[tuple[float, float]]) -> tuple[SpanProsody, list[SpanProsody]]:
    """(whole-clip summary, one summary per (start, end) span) for 16 kHz mono audio."""
    tracks = Tracks.measure(samples)
    whole = tracks.span(0.0, len(samples) / SAMPLE_RATE)
    return whole, [tracks.span(start, end) for start, end in spans]


# ---- utterance-level features for the LLM side ---------------------------------------------------------------------
# Measured acoustics that the projector may read beside WhisperPro's learned vector. Each has a fixed physical scale
# (octaves, decades of dB, log2 of a rate), not one fitted on training data, so a voice the model never heard lands
# where physics puts it. The same numbers feed the acoustic-rule baselines of `textpro eval`.
ACOUSTIC_FEATURES = (
    "f0_median_oct",  # log2(median F0 / 150 Hz) over voiced frames: ~-0.8 for a low male, ~+0.6 for a high female
    "f0_range_oct",  # 10th–90th percentile spread of log2 F0: monotone ~0.1, lively ~0.6
    "energy_range",  # 10th–90th percentile spread of active frames' level, in units of 20 dB
    "rate_log2",  # log2(words per second of active speech / 3)
    "pause_ratio",  # share of quiet frames between the first and the last active frame
    "voiced_ratio",  # share of active frames that are voiced
)
ACTIVE_DB = 35.0  # a frame is active when within this many dB of the clip's loudest frame


@dataclass
class UtteranceAcoustics:
    f0_median: float | None  # Hz; None when no frame is voiced
    f0_range_oct: float
    energy_range_db: float
    words_per_second: float
    pause_ratio: float
    voiced_ratio: float

    def vector(self) -> np.ndarray:
        """(len(ACOUSTIC_FEATURES),) float32 on the fixed scales above; an unvoiced clip reads F0 at 150 Hz."""
        f0 = 0.0 if self.f0_median is None else float(np.log2(self.f0_median / 150.0))
        return np.array([f0, self.f0_range_oct, self.energy_range_db / 20.0,
                         float(np.log2(max(self.words_per_second, 0.1) / 3.0)), self.pause_ratio,
                         self.voiced_ratio], dtype=np.float32)


def utterance_acoustics(samples: np.ndarray, n_words: int, tracks: Tracks | None = None) -> UtteranceAcoustics:
    """Measured pitch, pitch range, loudness range, speaking rate and pauses of a 16 kHz clip with `n_words` words."""
    tracks = tracks or Tracks.measure(samples)
    level = 20 * np.log10(tracks.rms.astype(np.float64) + 1e-10)  # (frames,) dB
    active = level > (level.max() - ACTIVE_DB) if len(level) else np.zeros(0, bool)
    if not active.any():
        return UtteranceAcoustics(None, 0.0, 0.0, 0.0, 0.0, 0.0)
    first, last = np.flatnonzero(active)[[0, -1]]
    span = active[first:last + 1]
    f0 = tracks.f0[first:last + 1]
    voiced = f0[(f0 > 0) & span]
    seconds = (last + 1 - first) * FRAME_SECONDS
    log_f0 = np.log2(voiced) if len(voiced) else np.zeros(1)
    p10, p90 = np.percentile(log_f0, [10, 90])
    e10, e90 = np.percentile(level[first:last + 1][span], [10, 90])
    return UtteranceAcoustics(
        f0_median=float(np.median(voiced)) if len(voiced) else None,
        f0_range_oct=float(p90 - p10),
        energy_range_db=float(e90 - e10),
        words_per_second=n_words / max(seconds, 0.1),
        pause_ratio=float(1.0 - span.mean()),
        voiced_ratio=float(len(voiced) / max(span.sum(), 1)),
    )
