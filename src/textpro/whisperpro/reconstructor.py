"""Mel reconstructor (training only): rebuild the input log-mel from (transcript tokens, prosody vectors).

Its only purpose is its gradient. Whisper's decoder states at layer k are asked to carry whatever the text tokens
alone cannot explain about the audio (pitch, timing, loudness, voice), because the reconstructor sees nothing else:

    token ids (B, N) ──► embedding ─┐
                                    ├─ concat ─► Linear fuse ─► + token positions ─► TransformerEncoder = memory
    prosody (B, N, d_whisper) ─► Linear ┘
    learnable frame queries (first ⌈T/f⌉ of max_frames/f) ─► TransformerDecoder (cross-attends memory)
        ─► Linear(d, f·n_mels) ─► (B, T, n_mels)       f = frames_per_query (upsampling factor)

The text embedding is the reconstructor's own, not Whisper's: Whisper ties its token embedding to its output
projection, so reusing it would let the MSE move the ASR logits directly instead of through layer k, and a self-
contained module saves and loads apart from the model (it is dropped at inference).

Saved as `DIR/config.json` + `DIR/model.safetensors`; by convention DIR = `<whisperpro dir>/reconstructor`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


@dataclass
class MelReconstructorConfig:
    vocab_size: int  # Whisper vocabulary (token ids index the reconstructor's own embedding)
    d_whisper: int  # width of the prosody vectors (Whisper d_model)
    n_mels: int = 80  # log-mel bins of the target (80; 128 for large-v3)
    d_model: int = 256  # width of the reconstructor
    encoder_layers: int = 2  # Transformer encoder over the fused token sequence (the memory)
    decoder_layers: int = 2  # Transformer decoder over the frame queries
    heads: int = 4
    max_frames: int = 3000  # longest target in mel frames (30 s of Whisper log-mel)
    max_tokens: int = 448  # longest token sequence (Whisper's max_target_positions)
    frames_per_query: int = 2  # each query predicts this many consecutive frames (2 = Whisper encoder's stride)
    dropout: float = 0.0

    def __post_init__(self):
        if self.d_model % self.heads:
            raise ValueError(f"reconstructor d_model {self.d_model} is not divisible by heads {self.heads}")
        self.max_queries = math.ceil(self.max_frames / self.frames_per_query)

    @classmethod
    def from_whisper_config(cls, config, **overrides) -> MelReconstructorConfig:
        """Sizes from a WhisperProConfig (`reconstructor_*` fields), shapes from the Whisper it sits on."""
        fields = dict(
            vocab_size=config.vocab_size,
            d_whisper=config.d_model,
            n_mels=config.num_mel_bins,
            max_tokens=config.max_target_positions,
            d_model=getattr(config, "reconstructor_d_model", cls.d_model),
            encoder_layers=getattr(config, "reconstructor_encoder_layers", cls.encoder_layers),
            decoder_layers=getattr(config, "reconstructor_decoder_layers", cls.decoder_layers),
            heads=getattr(config, "reconstructor_heads", cls.heads),
            max_frames=getattr(config, "reconstructor_max_frames", cls.max_frames),
        )
        return cls(**{**fields, **overrides})

    def to_dict(self) -> dict:
        fields = asdict(self)
        fields.pop("max_queries", None)  # derived
        return fields


class MelReconstructor(nn.Module):
    def __init__(self, config: MelReconstructorConfig):
        super().__init__()
        self.config = config
        d = config.d_model
        self.token_embedding = nn.Embedding(config.vocab_size, d)
        self.prosody_projection = nn.Linear(config.d_whisper, d)
        self.fuse = nn.Linear(2 * d, d)
        self.token_positions = nn.Embedding(config.max_tokens, d)
        # Each query is a learned vector per output position: it is the frame's positional code and its question.
        self.frame_queries = nn.Parameter(torch.randn(config.max_queries, d) * 0.02)

        def layer(kind):
            return kind(d, config.heads, dim_feedforward=4 * d, dropout=config.dropout,
                        activation="gelu", batch_first=True, norm_first=True)

        self.encoder = nn.TransformerEncoder(layer(nn.TransformerEncoderLayer), config.encoder_layers,
                                             norm=nn.LayerNorm(d), enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(layer(nn.TransformerDecoderLayer), config.decoder_layers,
                                             norm=nn.LayerNorm(d))
        self.to_mel = nn.Linear(d, config.frames_per_query * config.n_mels)

    def forward(self, token_ids: torch.Tensor, prosody: torch.Tensor, token_mask: torch.Tensor,
                num_frames: int, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """token_ids (B, N), prosody (B, N, d_whisper), token_mask (B, N) True = real token; every row needs one.
        frame_mask (B, T) True = real frame (lets padded queries be ignored as keys). Returns (B, T, n_mels)."""
        B, N = token_ids.shape
        if num_frames > self.config.max_frames:
            raise ValueError(f"{num_frames} mel frames exceed reconstructor_max_frames={self.config.max_frames}")
        f = self.config.frames_per_query
        n_queries = math.ceil(num_frames / f)

        tokens = torch.cat([self.token_embedding(token_ids), self.prosody_projection(prosody)], dim=-1)
        tokens = self.fuse(tokens) + self.token_positions(torch.arange(N, device=token_ids.device))  # (B, N, d)
        memory = self.encoder(tokens, src_key_padding_mask=~token_mask)  # (B, N, d)

        queries = self.frame_queries[:n_queries].unsqueeze(0).expand(B, -1, -1)  # (B, Q, d)
        query_padding = None
        if frame_mask is not None:
            # A query is real if any of its f frames is; pad the mask to a multiple of f first.
            padded = F.pad(frame_mask, (0, n_queries * f - num_frames), value=False)
            query_padding = ~padded.view(B, n_queries, f).any(-1)  # (B, Q) True = padding
        hidden = self.decoder(queries, memory, tgt_key_padding_mask=query_padding,
                              memory_key_padding_mask=~token_mask)  # (B, Q, d)
        mel = self.to_mel(hidden).view(B, n_queries * f, self.config.n_mels)
        return mel[:, :num_frames]  # (B, T, n_mels)

    def loss(self, token_ids, prosody, token_mask, target_mel: torch.Tensor, frame_mask: torch.Tensor):
        """MSE over the real frames only. target_mel (B, n_mels, T) as Whisper's feature extractor gives it,
        frame_mask (B, T) True = real frame."""
        target = target_mel.transpose(1, 2)  # (B, T, n_mels)
        predicted = self(token_ids, prosody, token_mask, target.shape[1], frame_mask)
        return masked_mse(predicted, target, frame_mask)

    def save(self, directory: str | os.PathLike) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CONFIG_NAME).write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")
        state = {name: tensor.detach().contiguous().cpu() for name, tensor in self.state_dict().items()}
        save_file(state, directory / WEIGHTS_NAME, metadata={"format": "pt"})

    @classmethod
    def load(cls, directory: str | os.PathLike) -> MelReconstructor:
        directory = Path(directory)
        config = MelReconstructorConfig(**json.loads((directory / CONFIG_NAME).read_text()))
        model = cls(config)
        model.load_state_dict(load_file(directory / WEIGHTS_NAME))
        return model


def masked_mse(predicted: torch.Tensor, target: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the frames where frame_mask (B, T) is True; predicted/target (B, T, n_mels)."""
    squared = (predicted - target).pow(2).mean(-1)  # (B, T)
    mask = frame_mask.to(squared.dtype)
    return (squared * mask).sum() / mask.sum().clamp_min(1.0)
