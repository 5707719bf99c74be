"""Transcription with word times from any HF Whisper checkpoint (a converted base model or a user's directory).

Word times come from Whisper's own cross-attention alignment (`return_token_timestamps`, dynamic time warping over
the checkpoint's alignment heads): token i spans [t_i, t_{i+1}], and a word spans its tokens.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from textpro.audio import SAMPLE_RATE, AudioSource, load_audio


@dataclass
class Word:
    text: str
    start: float  # seconds from the start of the audio
    end: float


@dataclass
class Transcript:
    text: str
    words: list[Word]
    token_ids: list[int]  # Whisper ids of the transcript tokens (no SOT/language/task/timestamp/EOT)
    duration: float  # seconds of audio
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


class Transcriber:
    """Load once, transcribe many: `Transcriber.from_pretrained("whisper-tiny.en").transcribe("clip.wav")`."""

    def __init__(self, model, processor, language: str | None = "en"):
        self.model = model.eval()
        self.processor = processor
        self.tokenizer = processor.tokenizer
        self.language = language if model.generation_config.is_multilingual else None

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, language: str | None = "en") -> "Transcriber":
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        from textpro.hub import resolve_model

        path = resolve_model(name_or_path)
        model = WhisperForConditionalGeneration.from_pretrained(path, dtype=torch.float32)
        return cls(model, WhisperProcessor.from_pretrained(path), language)

    @torch.inference_mode()
    def transcribe(self, audio: AudioSource, sample_rate: int | None = None, max_seconds="default") -> Transcript:
        """audio: a path, file bytes, or an array (16 kHz unless `sample_rate` says otherwise)."""
        if isinstance(audio, np.ndarray) and sample_rate is None:
            sample_rate = SAMPLE_RATE
        samples = load_audio(audio, sample_rate, max_seconds=max_seconds)
        features = self.processor.feature_extractor(
            samples, sampling_rate=SAMPLE_RATE, return_tensors="pt", return_attention_mask=True
        )
        kwargs = {"language": self.language, "task": "transcribe"} if self.language else {}
        out = self.model.generate(
            features.input_features, attention_mask=features.attention_mask,
            return_token_timestamps=True, return_dict_in_generate=True, **kwargs,
        )
        ids = out["sequences"][0].tolist()
        times = out["token_timestamps"][0].tolist()
        duration = len(samples) / SAMPLE_RATE
        words, token_ids = self._words(ids, times, duration)
        text = self.tokenizer.decode(token_ids, skip_special_tokens=True).strip()
        return Transcript(text=text, words=words, token_ids=token_ids, duration=duration)

    def _words(self, ids: list[int], times: list[float], duration: float) -> tuple[list[Word], list[int]]:
        """Group text tokens into words: a token that starts with a space opens a word; punctuation-only tokens
        stay with the word before them."""
        special = set(self.tokenizer.all_special_ids)
        timestamp_begin = self.tokenizer.convert_tokens_to_ids("<|notimestamps|>") + 1
        groups: list[list[int]] = []  # positions in `ids`
        for pos, token in enumerate(ids):
            if token in special or token >= timestamp_begin:
                continue
            piece = self.tokenizer.convert_ids_to_tokens(token)
            starts_word = piece.startswith("Ġ") or not groups
            is_punctuation = not any(ch.isalnum() for ch in self.tokenizer.decode([token]))
            if starts_word and not (is_punctuation and groups):
                groups.append([pos])
            else:
                groups[-1].append(pos)
        words = []
        for group in groups:
            start = min(times[group[0]], duration)
            end = min(times[group[-1] + 1] if group[-1] + 1 < len(times) else duration, duration)
            text = self.tokenizer.decode([ids[p] for p in group]).strip()
            words.append(Word(text=text, start=round(start, 2), end=round(max(end, start), 2)))
        return words, [ids[p] for g in groups for p in g]

