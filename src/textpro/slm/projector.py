"""The prosody projector: WhisperPro's prosody space -> the LLM's input-embedding space (docs/method.md)."""

from __future__ import annotations

import torch
from torch import nn


def bound_norm(vectors: torch.Tensor, max_norm: torch.Tensor | float) -> torch.Tensor:
    """(..., d) -> the same rows, each scaled down to L2 norm `max_norm` where it is longer (inf: unchanged, and no
    inf * 0 in the gradient)."""
    if not torch.isfinite(torch.as_tensor(max_norm)):
        return vectors
    norm = vectors.norm(dim=-1, keepdim=True).clamp(min=1e-6)
    return vectors * (max_norm / norm).clamp(max=1.0)


class ProsodyProjector(nn.Module):
    """Linear(d_whisper [+ k] -> d_llm) -> GELU -> Linear(d_llm -> d_llm), as in the released checkpoints
    (1280->3584->3584), optionally bounded in norm.

    Input rows are a learned WhisperPro vector (d_whisper), optionally followed by k measured acoustic features
    (`textpro.acoustics.ACOUSTIC_FEATURES`, already on fixed physical scales; n_acoustic = k) and by the clip's mean
    encoder state (n_encoder = d_whisper, `SpeechTokens.encoder_mean`).

    zero_init: start the last layer at zero, so an untrained projector writes the same vector (its bias, 0 or what
    `output_bias` says) at every placeholder whatever the prosody, and the model begins as the text LLM reading the
    transcript (training still moves it: the last layer's gradient is GELU(first layer) x upstream gradient).
    max_norm: each output vector's L2 norm is at most this (None: unbounded), so a placeholder cannot shout over the
    transcript's tokens.
    """

    def __init__(self, d_whisper: int, d_llm: int, zero_init: bool = True, output_bias: torch.Tensor | None = None,
                 n_acoustic: int = 0, max_norm: float | None = None, n_encoder: int = 0):
        super().__init__()
        self.d_whisper, self.n_acoustic, self.n_encoder = d_whisper, n_acoustic, n_encoder
        # Per-dimension standardisation of the learned vector, fitted once on the training features (`fit_input`): a
        # few Whisper dimensions are ~30x larger than the median one, and a linear probe on standardised utterance
        # vectors reads accent at 75% against 42% raw (tiny.en WhisperPro, mini world). Identity until fitted.
        self.register_buffer("input_mean", torch.zeros(d_whisper))
        self.register_buffer("input_std", torch.ones(d_whisper))
        # The acoustics keep their physical scale; only their training mean is removed (and kept for the
        # prosody-neutral diagnostic, which feeds the training means). `acoustic_scale` multiplies them after that:
        # ones (physical units) unless `fit_input(balance=True)` scales each feature to unit training spread times
        # sqrt(d_whisper / k), so that the k acoustics enter the first layer with the same energy as the d_whisper
        # standardised learned dimensions. Unbalanced, the acoustics moved a trained projector's output by 0.3% of its
        # norm (tiny.en, 384 learned dims against 6 acoustics): the LLM could not hear them.
        self.register_buffer("acoustic_mean", torch.zeros(n_acoustic))
        # (not saved without acoustics: safetensors treats two empty buffers as one shared tensor and drops one)
        self.register_buffer("acoustic_scale", torch.ones(n_acoustic), persistent=n_acoustic > 0)
        self.register_buffer("max_norm", torch.tensor(float("inf") if max_norm is None else float(max_norm)))
        # The mean encoder state is standardised like the learned vector (and counts as learned for the noise and the
        # branch dropout below: it is WhisperPro's too, and an unseen voice moves it as much)
        self.register_buffer("encoder_input_mean", torch.zeros(n_encoder), persistent=n_encoder > 0)
        self.register_buffer("encoder_input_std", torch.ones(n_encoder), persistent=n_encoder > 0)
        # Training only: per row, the chance that the learned vector / the acoustics are replaced by their training
        # mean, so that neither branch alone carries every answer (set by the training config, not saved).
        self.branch_dropout = (0.0, 0.0)
        # Training only: the std of Gaussian noise added to the standardised learned vector, so that answers cannot
        # hang on directions of it that an unseen voice moves (set by the training config, not saved).
        self.learned_noise = 0.0
        self.encoder_noise: float | None = None  # the same for the mean encoder state (None: learned_noise)
        # The standardised inputs are multiplied by this (TextProSLMConfig.prosody_gain, set by the model, not saved):
        # below 1 every voice reads closer to the training mean
        self.input_gain = 1.0
        self.linear_in = nn.Linear(d_whisper + n_acoustic, d_llm)
        # The mean encoder state enters the first layer through its own weight (added to linear_in's output: the same
        # as more input columns), so that a trained projector can gain it at zero and train it at its own rate
        self.linear_encoder = nn.Linear(n_encoder, d_llm, bias=False) if n_encoder else None
        self.act = nn.GELU()
        self.linear_out = nn.Linear(d_llm, d_llm)
        if zero_init:
            nn.init.zeros_(self.linear_out.weight)
            nn.init.zeros_(self.linear_out.bias)
        if output_bias is not None:
            with torch.no_grad():
                self.linear_out.bias.copy_(output_bias)

    @torch.no_grad()
    def fit_input(self, vectors: torch.Tensor, balance: bool = False) -> None:
        """vectors: (N, d_whisper + n_acoustic + n_encoder), what the projector will read in training; sets the
        statistics. balance: also scale the acoustics to the learned branch's energy (see `acoustic_scale`)."""
        learned, acoustic, encoder = self._branches(vectors.to(self.input_mean))
        self.input_mean.copy_(learned.mean(0))
        self.input_std.copy_(learned.std(0).clamp(min=1e-3))  # a constant dimension stays as it is
        self.acoustic_mean.copy_(acoustic.mean(0))
        if balance and self.n_acoustic:
            gain = (self.d_whisper / self.n_acoustic) ** 0.5
            self.acoustic_scale.copy_(gain / acoustic.std(0).clamp(min=1e-3))
        if self.n_encoder:
            self.fit_encoder_input(encoder)

    @torch.no_grad()
    def fit_encoder_input(self, encoder: torch.Tensor) -> None:
        """encoder: (N, n_encoder) mean encoder states of training clips; sets their standardisation."""
        encoder = encoder.to(self.encoder_input_mean)
        self.encoder_input_mean.copy_(encoder.mean(0))
        self.encoder_input_std.copy_(encoder.std(0).clamp(min=1e-3))

    @torch.no_grad()
    def add_encoder_branch(self, n_encoder: int) -> None:
        """Read the mean encoder state too, through a new weight that starts at zero: the output is unchanged until
        training moves it (a trained projector gains the branch without losing what it does)."""
        if self.n_encoder:
            raise ValueError(f"the projector already reads a mean encoder state ({self.n_encoder} dims)")
        like = self.linear_in.weight
        self.linear_encoder = nn.Linear(n_encoder, self.linear_in.out_features, bias=False, device=like.device,
                                        dtype=like.dtype)
        self.linear_encoder.weight.zero_()
        self.linear_encoder.requires_grad_(like.requires_grad)
        self.n_encoder = n_encoder
        self.register_buffer("encoder_input_mean", torch.zeros(n_encoder, dtype=like.dtype, device=like.device))
        self.register_buffer("encoder_input_std", torch.ones(n_encoder, dtype=like.dtype, device=like.device))

    def neutral_input(self) -> torch.Tensor:
        """(d_whisper + n_acoustic + n_encoder,): the training means, i.e. what an average training voice reads as."""
        return torch.cat([self.input_mean, self.acoustic_mean, self.encoder_input_mean])

    def _branches(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(..., d_whisper + n_acoustic + n_encoder) -> learned, acoustic, encoder parts."""
        d, k = self.d_whisper, self.n_acoustic
        return x[..., :d], x[..., d:d + k], x[..., d + k:]

    def forward(self, prosody: torch.Tensor) -> torch.Tensor:
        # prosody: (..., d_whisper + n_acoustic + n_encoder) -> (..., d_llm), in the projector's own dtype (fp32
        # unless cast)
        learned, acoustic, encoder = self._branches(prosody.to(self.linear_in.weight.dtype))
        learned = (learned - self.input_mean) / self.input_std  # the training mean reads as 0
        acoustic = (acoustic - self.acoustic_mean) * self.acoustic_scale
        encoder = (encoder - self.encoder_input_mean) / self.encoder_input_std
        if self.input_gain != 1.0:
            learned, acoustic, encoder = (self.input_gain * part for part in (learned, acoustic, encoder))
        if self.training and self.learned_noise:
            learned = learned + self.learned_noise * torch.randn_like(learned)
        encoder_noise = self.learned_noise if self.encoder_noise is None else self.encoder_noise
        if self.training and encoder_noise:
            encoder = encoder + encoder_noise * torch.randn_like(encoder)
        if self.training and any(self.branch_dropout):
            keep_learned = torch.rand(learned.shape[:-1] + (1,), device=learned.device) >= self.branch_dropout[0]
            keep_acoustic = torch.rand(acoustic.shape[:-1] + (1,), device=learned.device) >= self.branch_dropout[1]
            learned, acoustic, encoder = learned * keep_learned, acoustic * keep_acoustic, encoder * keep_learned
        hidden = self.linear_in(torch.cat([learned, acoustic], dim=-1))  # (..., d_llm)
        if self.linear_encoder is not None:
            hidden = hidden + self.linear_encoder(encoder)
        return bound_norm(self.linear_out(self.act(hidden)), self.max_norm)
