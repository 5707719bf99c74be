"""Long audio: cut at pauses into segments Whisper can read (≤ 30 s each).

Each cut goes at the quietest point (lowest RMS over 20 ms frames, smoothed over 100 ms so a single quiet frame
inside a word does not win) within the last `search_seconds` before the limit: a pause between sentences or
phrases, where no word is split. The segments are then transcribed in order, each with the previous text as the
decoder's prompt (see `Transcriber`).
"""

from __future__ import annotations

import numpy as np

from textpro.audio import SAMPLE_RATE, WINDOW_SECONDS

FRAME_SECONDS = 0.02
SMOOTH_FRAMES = 5  # 100 ms
MIN_TAIL_SECONDS = 1.0  # never leave a last segment shorter than this


def split_at_pauses(
    samples: np.ndarray,
    max_seconds: float = WINDOW_SECONDS,
    search_seconds: float = 8.0,
    sample_rate: int = SAMPLE_RATE,
) -> list[tuple[int, int]]:
    """(start, end) sample ranges covering `samples` (1-D) in order, each at most `max_seconds` long."""
    total = len(samples)
    limit = int(max_seconds * sample_rate)
    frame = int(FRAME_SECONDS * sample_rate)
    search = min(int(search_seconds * sample_rate), limit // 2)
    segments, start = [], 0
    while total - start > limit:
        low = start + limit - search
        high = min(start + limit, total - int(MIN_TAIL_SECONDS * sample_rate))
        cut = low + _quietest_offset(samples[low:high], frame)
        segments.append((start, cut))
        start = cut
    segments.append((start, total))
    return segments


def _quietest_offset(window: np.ndarray, frame: int) -> int:
    """Sample offset of the centre of the quietest (smoothed-RMS) 20 ms frame in `window`."""
    frames = len(window) // frame
    if frames == 0:
        return len(window) // 2
    rms = np.sqrt(np.mean(window[: frames * frame].reshape(frames, frame).astype(np.float64) ** 2, axis=1))
    smooth = np.convolve(rms, np.ones(SMOOTH_FRAMES) / SMOOTH_FRAMES, mode="same") if frames >= SMOOTH_FRAMES else rms
    return int(np.argmin(smooth)) * frame + frame // 2
