"""The TextPro-SLM side of `textpro eval`: a spoken item (audio file + optional instruction) in, the answer out."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class SLMResponder:
    """Implements textpro.eval's SpeechResponder: `answer_audio(list[AudioQuery]) -> list[str]`, greedy, batched
    (one padded WhisperPro batch and one left-padded LLM batch per call). An adapter checkpoint (config
    `audio_input: adapter`) runs through `slm.adapter.AdapterPipeline` instead: Whisper encoder, no decoding."""

    def __init__(self, pipeline, name: str, batch_size: int = 8, max_new_tokens: int = 64):
        self.pipeline = pipeline  # textpro.pipeline.TextPro
        self.name = name  # the eval cache key: a retrained checkpoint must not reuse old answers
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, batch_size: int = 8, max_new_tokens: int = 64,
                        whisperpro: str | os.PathLike | None = None) -> SLMResponder:
        from textpro.pipeline import TextPro
        from textpro.slm.config import CONFIG_NAME, TextProSLMConfig

        directory = Path(directory).resolve()
        from textpro.slm.release import is_release_slm

        is_adapter = ((directory / CONFIG_NAME).is_file() and not is_release_slm(directory)
                      and TextProSLMConfig.load(directory).audio_input == "adapter")
        if is_adapter:  # the continuous-adapter baseline
            from textpro.slm.adapter import AdapterPipeline

            pipeline = AdapterPipeline.from_pretrained(directory, whisper=whisperpro)
        else:
            pipeline = TextPro.from_pretrained(directory, whisperpro=whisperpro)  # ModelError unless a TextPro-SLM
        weights = sorted(p for p in directory.iterdir() if p.suffix in (".safetensors", ".json"))
        fingerprint = hashlib.sha256("".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                                             for p in weights).encode()).hexdigest()[:12]
        return cls(pipeline, f"textpro-slm:{directory.name}:{fingerprint}", batch_size, max_new_tokens)

    def answer_audio(self, queries: list) -> list[str]:
        turns = [(str(query.audio_path), query.instruction) for query in queries]
        results = self.pipeline.chat_batch(turns, max_new_tokens=self.max_new_tokens)
        return [result.answer for result in results]

    @property
    def has_transcript(self) -> bool:
        """Whether answers come from a WhisperPro transcript (not so for the continuous-adapter baseline)."""
        from textpro.pipeline import TextPro

        return isinstance(self.pipeline, TextPro)

    @property
    def has_neutral(self) -> bool:
        """Whether the model can answer with its prosody replaced by the training mean (`neutral_speech`)."""
        return self.has_transcript and hasattr(self.pipeline.slm, "neutral_speech")

    def answer_audio_variants(self, queries: list) -> list[dict]:
        """For `textpro eval`'s diagnostics: per query the answer as heard, the answer with the prosody replaced by the
        training mean and WhisperPro's transcript (None where the model has none), from one transcription per clip."""
        if not self.has_transcript:
            return [{"answer": answer, "neutral": None, "transcript": None} for answer in self.answer_audio(queries)]
        speech = self.pipeline.listen([str(query.audio_path) for query in queries])
        instructions = [query.instruction for query in queries]
        generate = self.pipeline.slm.generate
        answers = generate(list(zip(speech, instructions, strict=True)), max_new_tokens=self.max_new_tokens)
        neutral = [None] * len(queries)
        if self.has_neutral:
            calm = [self.pipeline.slm.neutral_speech(s) for s in speech]
            neutral = generate(list(zip(calm, instructions, strict=True)), max_new_tokens=self.max_new_tokens)
        return [{"answer": a, "neutral": n, "transcript": s.text}
                for a, n, s in zip(answers, neutral, speech, strict=True)]
