"""TextProSLMConfig: what a TextPro-SLM checkpoint is made of, stored as `textpro_config.json` next to its weights."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from textpro.deprecation import renamed_choice
from textpro.errors import ConfigError

CONFIG_NAME = "textpro_config.json"
PROJECTOR_NAME = "projector.safetensors"  # the prosody projector's weights in a checkpoint directory
INJECTION_MODES = ("global", "interleave")
AUDIO_INPUTS = ("prosody", "encoder_baseline")
RENAMED_AUDIO_INPUTS = {"adapter": "encoder_baseline"}  # old value -> new: accepted (with a line) for one release
PROJECTOR_INITS = ("mean_embedding", "zero", "default")
PROJECTOR_NORMS = (None, "token")


@dataclass
class TextProSLMConfig:
    """Defaults are the mini recipe (SmolLM2-135M-Instruct reading Whisper tiny.en prosody, global injection)."""

    base_llm: str = "smollm2-135m-instruct"  # base text LLM: a textpro.hub name or an HF directory
    whisperpro: str = "whisper-tiny.en"  # the WhisperPro checkpoint whose prosody vectors this model reads
    d_whisper: int = 384  # width of a prosody vector (Whisper d_model: tiny 384, base 512, large-v3 1280)
    injection: str = "global"  # "global": one utterance vector before the transcript; "interleave": one per r tokens
    interleave_ratio: int = 5  # r: transcript tokens per prosody vector in interleave mode (the paper's 5:1)
    # Token whose input embedding is replaced by a projected prosody vector. None = choose at build time: Qwen2.5's
    # `<|repo_name|>` (id 151663, as the released checkpoints), else `<repo_name>` (SmolLM2 / StarCoder vocabularies),
    # else a new special token `<|prosody|>` (embeddings resized). A saved checkpoint always names the concrete token.
    placeholder_token: str | None = None
    system_prompt: str | None = None  # None: whatever the chat template does without a system message
    instruction_separator: str = "\n"  # between the transcript and the instruction inside the user turn
    # How an untrained projector starts. "mean_embedding": last layer's weight 0 and bias = the LLM's mean input
    # embedding, so every placeholder reads as an average token and the untrained model is the text LLM;
    # "zero": outputs exactly 0 (also keeps the text path, but RMSNorm at 0 gives the projector gradients ~1/sqrt(eps):
    # 346 against the LLM's 22 on SmolLM2-135M, which gradient clipping then spends on the projector);
    # "default": PyTorch's Linear init (random vectors: the untrained SmolLM2 no longer answers the transcript).
    projector_init: str = "mean_embedding"
    # What the LLM reads of the audio. "prosody": TextPro-SLM, the WhisperPro transcript plus projected prosody
    # vectors. "encoder_baseline": the continuous-encoder baseline (the Qwen2-Audio / LLaMA-Omni input side): no
    # transcript, one placeholder per pooled Whisper *encoder* frame, each replaced by the projected frame
    # (slm/encoder_baseline.py). Its old name "adapter" (checkpoints saved before the rename) still loads.
    audio_input: str = "prosody"
    encoder_pool: int = 2  # encoder_baseline: encoder frames averaged per LLM position (50 Hz -> 25 Hz, as Qwen2-Audio)
    # Measured acoustics (textpro.acoustics.ACOUSTIC_FEATURES: median F0, F0 range, loudness range, speaking rate,
    # pauses, voicing) read by the projector beside the learned vector: physics that transfers to voices no training
    # set had. False: the learned vector alone (the paper)
    acoustic_features: bool = False
    # Scale the acoustics (per feature, from the training spread) so that they enter the projector with the same
    # energy as the learned vector's standardised dimensions; fitted once when the model is built (stage 1) and
    # stored in the projector. False: physical units, which a 384-dim learned vector drowns
    acoustic_balance: bool = False
    # The mean of WhisperPro's encoder states over the clip (d_whisper dims, standardised like the learned vector) read
    # beside it: how the whole clip sounds. It carries accent, which the decoder's prosody vectors hold little of (a
    # linear probe on the mini world's dev clips: 74% against 48%, chance 25%). False: not read (the paper)
    encoder_summary: bool = False
    # Bound on each projected vector's L2 norm. "token": the LLM's median token-embedding norm, measured when the model
    # is built and stored in the projector, so a placeholder is never louder than a typical word (the first default's
    # vectors were 6.5x louder and pulled answers off the transcript); None: unbounded (the paper)
    projector_max_norm: str | None = None
    # How far the projector reads a voice from the average training voice: its standardised inputs (learned vector,
    # acoustics, mean encoder state; the training mean is 0) are multiplied by this before its first layer, at every
    # input alike. 1.0: as trained; 0.0: every voice reads as the training mean (the prosody-neutral model). A dial
    # between hearing and content steadiness, set on dev splits (results/robust-hearing.md, session 47)
    prosody_gain: float = 1.0
    # Written by save_pretrained. False: the checkpoint holds no LLM weights; its LLM is base_llm unchanged (stage 1)
    llm_in_checkpoint: bool = True

    def __post_init__(self):
        if self.injection not in INJECTION_MODES:
            raise ConfigError(f"unknown injection mode {self.injection!r}: use one of {', '.join(INJECTION_MODES)}")
        if self.projector_init not in PROJECTOR_INITS:
            raise ConfigError(f"unknown projector_init {self.projector_init!r}: "
                              f"use one of {', '.join(PROJECTOR_INITS)}")
        if self.projector_max_norm not in PROJECTOR_NORMS:
            raise ConfigError(f"unknown projector_max_norm {self.projector_max_norm!r}: use \"token\" or null")
        self.audio_input = renamed_choice(self.audio_input, RENAMED_AUDIO_INPUTS, "audio_input")
        if (self.acoustic_features or self.encoder_summary) and self.audio_input == "encoder_baseline":
            raise ConfigError("acoustic_features and encoder_summary go with WhisperPro prosody vectors, not the "
                              "encoder baseline")
        if self.audio_input not in AUDIO_INPUTS:
            raise ConfigError(f"unknown audio_input {self.audio_input!r}: use one of {', '.join(AUDIO_INPUTS)}")
        if int(self.encoder_pool) < 1:
            raise ConfigError(f"encoder_pool must be >= 1, got {self.encoder_pool}")
        self.encoder_pool = int(self.encoder_pool)
        if int(self.interleave_ratio) < 1:
            raise ConfigError(f"interleave_ratio must be >= 1, got {self.interleave_ratio}")
        if int(self.d_whisper) < 1:
            raise ConfigError(f"d_whisper must be >= 1, got {self.d_whisper}")
        self.interleave_ratio = int(self.interleave_ratio)
        self.prosody_gain = float(self.prosody_gain)
        if not 0.0 <= self.prosody_gain <= 4.0:
            raise ConfigError(f"prosody_gain must be within 0 ... 4, got {self.prosody_gain}")
        self.d_whisper = int(self.d_whisper)

    @property
    def n_acoustic(self) -> int:
        """Measured acoustic features per prosody row (0 without acoustic_features)."""
        from textpro.acoustics import ACOUSTIC_FEATURES

        return len(ACOUSTIC_FEATURES) if self.acoustic_features else 0

    @property
    def n_encoder(self) -> int:
        """Width of the mean encoder state per prosody row (0 without encoder_summary)."""
        return self.d_whisper if self.encoder_summary else 0

    @property
    def projector_width(self) -> int:
        """What the projector reads per row: learned vector, acoustics, mean encoder state."""
        return self.d_whisper + self.n_acoustic + self.n_encoder

    @classmethod
    def from_dict(cls, data: dict) -> TextProSLMConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown TextPro-SLM config field(s): {', '.join(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, directory: str | os.PathLike) -> Path:
        path = Path(directory) / CONFIG_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, directory_or_file: str | os.PathLike) -> TextProSLMConfig:
        path = Path(directory_or_file)
        if path.is_dir():
            path = path / CONFIG_NAME
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no TextPro-SLM config (is this a TextPro-SLM checkpoint?)") from None
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}: not valid JSON ({e})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a JSON object")
        return cls.from_dict(data)


def checkpoint_relative(directory: str | os.PathLike, name: str | os.PathLike) -> str:
    """A model named in a checkpoint's config: the directory of that name inside the checkpoint when there is one
    (a packed default carries its WhisperPro and teacher), else the name as given (a hub name or a path)."""
    if not os.path.isabs(name) and (Path(directory) / name).is_dir():
        return str(Path(directory) / name)
    return str(name)
