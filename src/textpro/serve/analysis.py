"""The clip analysis returned beside each answer (the API's `textpro` object): measured from the waveform, per
utterance and per word.

These numbers are for people (the page colours and sizes each word by them, and draws the pitch contour); the model
hears prosody through WhisperPro's vectors, not through these.
"""

from __future__ import annotations

import numpy as np

from textpro.acoustics import FRAME_SECONDS, Tracks
from textpro.audio import SAMPLE_RATE
from textpro.whisperpro.speech_tokens import SpeechTokens

CONTOUR_HOP_SECONDS = 0.01  # pitch contour resolution sent to clients: 100 points per second is plenty to draw


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def analyze_clip(samples: np.ndarray, transcript: SpeechTokens) -> dict:
    """{"transcript", "duration", "utterance": {...}, "words": [...], "pitch_contour": {...}} for one clip."""
    tracks = Tracks.measure(samples)
    duration = len(samples) / SAMPLE_RATE
    whole = tracks.span(0.0, duration)
    words = []
    for word in transcript.words:
        span = tracks.span(word.start, word.end)
        words.append({"text": word.text, "start": round(word.start, 2), "end": round(word.end, 2),
                      "duration": round(span.duration, 3), "f0_mean": _rounded(span.f0_mean),
                      "f0_min": _rounded(span.f0_min), "f0_max": _rounded(span.f0_max),
                      "voiced": round(span.voiced, 3), "energy_db": _rounded(span.energy_db)})
    # speaking rate over the speech itself (first word's start to last word's end), not the silence around it
    speech_seconds = (transcript.words[-1].end - transcript.words[0].start) if transcript.words else 0.0
    utterance = {
        "duration": round(duration, 3),
        "speech_seconds": round(speech_seconds, 3),
        "words": len(words),
        "speaking_rate_wps": round(len(words) / speech_seconds, 2) if speech_seconds > 0 else None,
        "f0_mean": _rounded(whole.f0_mean), "f0_min": _rounded(whole.f0_min), "f0_max": _rounded(whole.f0_max),
        "f0_range": _rounded(whole.f0_max - whole.f0_min) if whole.f0_mean is not None else None,
        "voiced": round(whole.voiced, 3),
        "energy_db": _rounded(whole.energy_db),
    }
    step = max(1, round(CONTOUR_HOP_SECONDS / FRAME_SECONDS))
    contour = [round(float(f), 1) for f in tracks.f0[::step]]  # 0 = unvoiced
    return {"transcript": transcript.text, "duration": round(duration, 3), "utterance": utterance, "words": words,
            "pitch_contour": {"hop_seconds": CONTOUR_HOP_SECONDS, "f0": contour}}
