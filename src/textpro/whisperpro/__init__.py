"""WhisperPro: a Whisper that emits transcript tokens with their times (and, fine-tuned, prosody vectors)."""

from textpro.whisperpro.transcribe import Transcriber, Transcript, Word

__all__ = ["Transcriber", "Transcript", "Word"]
