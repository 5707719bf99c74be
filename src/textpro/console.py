"""What every command shares on the terminal: quiet third-party libraries and the per-word prosody table.

A leaf module (imports nothing from textpro): the sub-commands, the demo and the recipes use it without importing the
command line (`textpro.cli`), which sits above them all."""

from __future__ import annotations

import os


def quiet_libraries() -> None:
    """Library progress bars and advice are noise on a command line; our own output is the result."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)  # library deprecations, not the user's concern


def print_prosody(transcript, whole, spans, write=print) -> None:
    """Each word with its times, length, pitch (and how far from the speaker's mean) and loudness."""
    write(f"  {'start':>6} {'end':>6} {'dur':>5} {'F0 Hz':>6} {'vs mean':>7} {'energy dB':>9}  word")
    for word, span in zip(transcript.words, spans, strict=True):
        f0 = f"{span.f0_mean:6.0f}" if span.f0_mean else f"{'-':>6}"
        relative = f"{100 * (span.f0_mean / whole.f0_mean - 1):+6.0f}%" if span.f0_mean and whole.f0_mean else " " * 7
        write(f"  {word.start:6.2f} {word.end:6.2f} {span.duration:5.2f} {f0} {relative} {span.energy_db:9.1f}  "
              f"{word.text}")
    speech = sum(s.duration for s in spans)
    rate = f"{len(spans) / speech:.1f} words/s" if speech > 0 else "no words"
    pitch = (f"F0 mean {whole.f0_mean:.0f} Hz (range {whole.f0_min:.0f}-{whole.f0_max:.0f})"
             if whole.f0_mean else "no voiced speech")
    write(f"utterance: {transcript.duration:.1f} s, {rate}, {pitch}, energy {whole.energy_db:.1f} dB")
