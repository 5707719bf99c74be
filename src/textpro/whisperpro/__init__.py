"""WhisperPro: a Whisper that emits transcript tokens, their times and one prosody vector per token, in one pass.

    from textpro.whisperpro import Transcriber
    speech = Transcriber.from_pretrained("whisper-tiny.en").transcribe("clip.wav")   # SpeechTokens

Names are imported lazily, so `textpro.whisperpro.speech_tokens` stays light for code that only reads results.
"""

__all__ = ["SpeechTokens", "Transcriber", "WhisperPro", "WhisperProConfig", "Word", "split_at_pauses"]


def __getattr__(name: str):
    # Explicit imports (no module names in strings): readers, ruff and import-linter see every dependency.
    if name == "WhisperPro":
        from textpro.whisperpro.model import WhisperPro as value
    elif name == "WhisperProConfig":
        from textpro.whisperpro.config import WhisperProConfig as value
    elif name == "SpeechTokens":
        from textpro.whisperpro.speech_tokens import SpeechTokens as value
    elif name == "Transcriber":
        from textpro.whisperpro.transcribe import Transcriber as value
    elif name == "Word":
        from textpro.whisperpro.transcribe import Word as value
    elif name == "split_at_pauses":
        from textpro.whisperpro.segment import split_at_pauses as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return value
