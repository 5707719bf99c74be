"""The prosody projector: WhisperPro's prosody space -> the LLM's input-embedding space (PAPER.md §2.2)."""

from __future__ import annotations

import torch
from torch import nn


class ProsodyProjector(nn.Module):
    """Linear(d_whisper -> d_llm) -> GELU -> Linear(d_llm -> d_llm), as in the released checkpoints (1280->3584->3584).

    zero_init: start the last layer at zero, so an untrained projector writes the same vector (its bias, 0 or what
    `output_bias` says) at every placeholder whatever the prosody, and the model begins as the text LLM reading the
    transcript (training still moves it: the last layer's gradient is GELU(first layer) x upstream gradient).
    """

    def __init__(self, d_whisper: int, d_llm: int, zero_init: bool = True, output_bias: torch.Tensor | None = None):
        super().__init__()
        self.linear_in = nn.Linear(d_whisper, d_llm)
        self.act = nn.GELU()
        self.linear_out = nn.Linear(d_llm, d_llm)
        if zero_init:
            nn.init.zeros_(self.linear_out.weight)
            nn.init.zeros_(self.linear_out.bias)
        if output_bias is not None:
            with torch.no_grad():
                self.linear_out.bias.copy_(output_bias)

    def forward(self, prosody: torch.Tensor) -> torch.Tensor:
        # prosody: (..., d_whisper) -> (..., d_llm); computed in the projector's own dtype (fp32 unless cast)
        return self.linear_out(self.act(self.linear_in(prosody.to(self.linear_in.weight.dtype))))
