"""The continuous-encoder baseline: the Qwen2-Audio / LLaMA-Omni input side, trained like TextPro-SLM.

    audio ─► Whisper encoder (50 Hz) ─► average-pool by 2 (25 Hz) ─► MLP ─► one LLM input position per frame

It is a TextProSLM with `audio_input: encoder_baseline` (config.py): the same projector class (Linear → GELU →
Linear), the same placeholder mechanism and the same training stages, data and loop; only what fills the
placeholders differs.
The user turn holds K placeholders (K = pooled frames) where TextPro-SLM holds its transcript and prosody vector,
followed by the instruction when there is one:

    encoder:  <P>_1 … <P>_K  [sep instruction]        K ≈ 25 per second of audio, no transcript text
    textpro:  <P> t_1 … t_T  [sep instruction]        1 + T ≈ 1 + 3-4 tokens per second of speech

Training reads an encoder-only feature cache (`textpro featurize --encoder-only`); inference runs the encoder on
the clip (`EncoderBaselinePipeline`, used by `SLMResponder` for `textpro eval --model`). No decoding happens: the
baseline's latency is one encoder pass plus the LLM's longer prompt.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from textpro.audio import SAMPLE_RATE, AudioSource, load_audio


@dataclass
class EncoderFrames:
    """What the encoder baseline reads of one clip."""

    frames: np.ndarray  # (K, d) float32: pooled encoder states, K = ceil(S / pool), S = 50 Hz encoder frames
    duration: float  # seconds of audio


def pool_frames(states: np.ndarray, pool: int) -> np.ndarray:
    """(S, d) -> (ceil(S / pool), d): mean of each run of `pool` consecutive frames (the last run may be shorter)."""
    if pool == 1:
        return states
    groups = -(-len(states) // pool)
    padded = np.zeros((groups * pool, states.shape[1]), dtype=np.float32)
    padded[:len(states)] = states
    counts = np.minimum(pool, len(states) - np.arange(groups) * pool)[:, None]  # (K, 1) real frames per group
    return (padded.reshape(groups, pool, -1).sum(1) / counts).astype(np.float32)


def encode_clips(transcriber, clips: Sequence[np.ndarray], pool: int = 2) -> list[np.ndarray]:
    """Pooled Whisper encoder states (K_i, d) of 16 kHz clips (`Transcriber.encoder_states`, pooled by `pool`)."""
    return [pool_frames(states, pool) for states in transcriber.encoder_states(clips)]


@dataclass
class EncoderBaselineResult:
    """What `EncoderBaselinePipeline.chat_batch` returns per turn (the same `.answer` as pipeline.ChatResult)."""

    frames: EncoderFrames
    answer: str


class EncoderBaselinePipeline:
    """Audio -> Whisper encoder -> pooled frames -> baseline SLM -> answer; the baseline's `TextPro` counterpart."""

    def __init__(self, transcriber, slm):
        self.transcriber = transcriber  # only its model's encoder and its feature extractor are used
        self.slm = slm  # a TextProSLM with audio_input == "encoder_baseline"

    @classmethod
    def from_pretrained(cls, slm_dir: str | os.PathLike,
                        whisper: str | os.PathLike | None = None) -> EncoderBaselinePipeline:
        """slm_dir: an encoder-baseline checkpoint; its config names the Whisper whose encoder it reads (override:
        whisper)."""
        from textpro.slm.config import checkpoint_relative
        from textpro.slm.model import TextProSLM
        from textpro.whisperpro import Transcriber

        slm = TextProSLM.from_pretrained(slm_dir)
        if whisper is None:
            whisper = checkpoint_relative(slm_dir, slm.config.whisperpro)
        return cls(Transcriber.from_pretrained(whisper), slm)

    def listen(self, audio: list[AudioSource]) -> list[EncoderFrames]:
        clips = [load_audio(a, max_seconds=None) for a in audio]
        frames = encode_clips(self.transcriber, clips, self.slm.config.encoder_pool)
        return [EncoderFrames(f, len(c) / SAMPLE_RATE) for f, c in zip(frames, clips, strict=True)]

    def chat_batch(self, turns: Sequence[tuple[AudioSource, str | None]], **generation) -> list[EncoderBaselineResult]:
        heard = self.listen([audio for audio, _ in turns])
        answers = self.slm.generate([(h, prompt) for h, (_, prompt) in zip(heard, turns, strict=True)], **generation)
        return [EncoderBaselineResult(h, a) for h, a in zip(heard, answers, strict=True)]
