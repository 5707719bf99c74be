"""SpeechTokens: what WhisperPro hands to the LLM side for one utterance."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SpeechTokens:
    """What was said (tokens) and how (one prosody vector per token), synchronized by construction.

    N = number of real transcript tokens (no SOT, language, task, timestamp or EOT positions); d = Whisper d_model.
    """

    text: str
    token_ids: list[int]  # (N,) Whisper token ids of the transcript
    starts: np.ndarray  # (N,) float32 seconds: when each token starts in the audio
    ends: np.ndarray  # (N,) float32 seconds
    prosody: np.ndarray  # (N, d) float32: decoder layer k output at the step that emitted each token
    utterance: np.ndarray  # (d,) float32: mean of `prosody` (for long audio: the mean of the segments' means)
    duration: float  # seconds of audio
    words: list = field(default_factory=list)  # list[Word]: words with start/end seconds, for people
    # (len(textpro.acoustics.ACOUSTIC_FEATURES),) float32: pitch, pitch range, loudness range, rate and pauses
    # measured from the waveform on fixed physical scales; None where nobody measured them
    acoustics: np.ndarray | None = None
    # (d,) float32: the mean of WhisperPro's encoder states over the clip's own frames (`Transcriber.encoder_means`):
    # how the whole clip sounds, accent included, which the decoder's prosody vectors carry little of; None where
    # nobody computed it
    encoder_mean: np.ndarray | None = None

    def to_dict(self, prosody_vectors: bool = False, tokenizer=None) -> dict:
        """JSON-ready: text, duration, words and per-token ids and times (with each token's text when a tokenizer
        is given); the (N, d) prosody matrix, the utterance vector (and the acoustics and encoder mean, where
        measured) only with `prosody_vectors`."""
        tokens = []
        for i, token_id in enumerate(self.token_ids):
            start, end = round(float(self.starts[i]), 2), round(float(self.ends[i]), 2)
            token = {"id": int(token_id), "start": start, "end": end}
            if tokenizer is not None:
                token["text"] = tokenizer.decode([token_id])
            tokens.append(token)
        out = {
            "text": self.text,
            "duration": round(float(self.duration), 3),
            "words": [{"text": w.text, "start": w.start, "end": w.end} for w in self.words],
            "tokens": tokens,
        }
        if prosody_vectors:
            out["prosody"] = np.asarray(self.prosody, dtype=np.float32).round(5).tolist()
            out["utterance"] = np.asarray(self.utterance, dtype=np.float32).round(5).tolist()
            if self.acoustics is not None:
                out["acoustics"] = np.asarray(self.acoustics, dtype=np.float32).round(5).tolist()
            if self.encoder_mean is not None:
                out["encoder_mean"] = np.asarray(self.encoder_mean, dtype=np.float32).round(5).tolist()
        return out

    def grouped(self, groups: int) -> np.ndarray:
        """(M, d): the N prosody vectors split into M contiguous, near-equal groups, each mean-pooled (the
        interleaved injection's p̄_1..p̄_M). With N < M, groups repeat the nearest vector rather than go empty."""
        if groups < 1:
            raise ValueError("groups must be >= 1")
        n = len(self.prosody)
        if n == 0:
            return np.repeat(self.utterance[None], groups, axis=0)
        if n >= groups:
            return np.stack([chunk.mean(axis=0) for chunk in np.array_split(self.prosody, groups)])
        index = np.minimum((np.arange(groups) * n) // groups, n - 1)
        return self.prosody[index]
