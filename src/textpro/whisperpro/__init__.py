"""WhisperPro: a Whisper that emits transcript tokens, their times and one prosody vector per token, in one pass.

    from textpro.whisperpro import Transcriber
    speech = Transcriber.from_pretrained("whisper-tiny.en").transcribe("clip.wav")   # SpeechTokens

Names are imported lazily, so `textpro.whisperpro.speech_tokens` stays light for code that only reads results.
"""

from importlib import import_module

_EXPORTS = {
    "WhisperPro": "textpro.whisperpro.model",
    "WhisperProConfig": "textpro.whisperpro.config",
    "SpeechTokens": "textpro.whisperpro.speech_tokens",
    "Transcriber": "textpro.whisperpro.transcribe",
    "Word": "textpro.whisperpro.transcribe",
    "split_at_pauses": "textpro.whisperpro.segment",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
