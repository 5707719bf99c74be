"""The adapter gate: how much of the LoRA adapter a spoken turn gets, decided from the turn's words.

The adapter that teaches the LLM to hear also moves its answers about content away from the text LLM's: the default
answers 300 dev questions exactly as its cascade on 79.0%, on 92.7% with the adapter off, and its open answers follow
the text LLM's at ROUGE-L 0.57 against 0.63 with the adapter off (results/robust-hearing.md, sessions 29–30). The gate
lets the model decide per turn whether it is being asked about the voice:

    z = [mean over the turn, last token] of the text LLM's layer-`layer` hidden states     (2·d_llm,)
        on the prompt without its prosody placeholders, adapter off: the text LLM's own reading of what is asked,
        never the voice (the prosody-neutral diagnostic leaves the gate where it was)
    g = σ(w·(z − μ)/s + b)                                                                   one value per turn
    every LoRA update in that turn:  ΔW·x → g·ΔW·x

The turn is what follows the first placeholder (transcript, instruction, the template's end of the user turn); a
training row's response is never part of it. One forward path for every input: no code looks at the task; the router
is a small learned part of the model, fitted (`fit`, a logistic regression) on training turns labelled by their kind
(paralinguistic 1, content 0). Stored beside the adapter as `adapter_gate.safetensors`.
"""

from __future__ import annotations

import os
from contextlib import nullcontext

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

GATE_NAME = "adapter_gate.safetensors"


class _Reached(Exception):
    """Raised by a forward hook to end the LLM's pass once the router's layer has run."""

    def __init__(self, hidden: torch.Tensor):
        super().__init__()
        self.hidden = hidden


def hidden_states_at(llm, input_ids: torch.Tensor, attention_mask: torch.Tensor, layer: int) -> torch.Tensor:
    """The LLM's `output_hidden_states[layer]` (B, T, d) (the input of decoder layer `layer`), without running the
    layers above it where the decoder stack is reachable (Llama, Qwen2 and kin: `model.layers`): the router's pass
    then costs `layer` layers, not all of them."""
    base = llm.get_base_model() if hasattr(llm, "get_base_model") else llm
    layers = getattr(getattr(base, "model", None), "layers", None)
    if layers is None or not 0 < layer < len(layers):  # the embeddings, the last layer (normed) or another layout
        return llm(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True,
                   use_cache=False).hidden_states[layer]

    def stop(module, inputs, output):
        raise _Reached(output[0] if isinstance(output, tuple) else output)

    handle = layers[layer - 1].register_forward_hook(stop)
    try:
        llm(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    except _Reached as reached:
        return reached.hidden
    finally:
        handle.remove()
    raise RuntimeError(f"decoder layer {layer - 1} did not run")


class AdapterGate(nn.Module):
    def __init__(self, d_llm: int, layer: int):
        super().__init__()
        self.layer = layer
        self.weight = nn.Parameter(torch.zeros(2 * d_llm))
        self.bias = nn.Parameter(torch.zeros(()))
        self.register_buffer("mean", torch.zeros(2 * d_llm))  # feature standardisation, set by `fit`
        self.register_buffer("std", torch.ones(2 * d_llm))
        self.values: torch.Tensor | None = None  # (B,) the gate of each row of the batch being run (`route`)

    # ---- routing ----------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def features(self, llm, input_ids: torch.Tensor, prompt_mask: torch.Tensor, placeholder_id: int) -> torch.Tensor:
        """(B, L) ids and the (B, L) mask of their prompt positions -> z (B, 2·d_llm), from one pass of the text LLM
        (`llm`'s base weights) over the prompts with their placeholders taken out."""
        rows, starts = [], []
        for ids, keep in zip(input_ids, prompt_mask.bool(), strict=True):
            ids = ids[keep]
            slots = (ids == placeholder_id).nonzero()
            starts.append(int(slots[0]) if len(slots) else 0)  # the turn starts where the first placeholder was
            rows.append(ids[ids != placeholder_id])
        width = max(len(r) for r in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long, device=input_ids.device)
        mask = torch.zeros_like(ids)
        for i, r in enumerate(rows):
            ids[i, :len(r)], mask[i, :len(r)] = r, 1
        off = llm.disable_adapter() if hasattr(llm, "disable_adapter") else nullcontext()
        with off:
            hidden = hidden_states_at(llm, ids, mask, self.layer).float()  # (B, T, d)
        return torch.stack([torch.cat([hidden[i, s:len(r)].mean(0), hidden[i, len(r) - 1]])
                            for i, (r, s) in enumerate(zip(rows, starts, strict=True))])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, 2·d_llm) -> g (B,) in (0, 1)."""
        return torch.sigmoid((z.float() - self.mean) / self.std @ self.weight + self.bias)

    def attach(self, llm) -> None:
        """Scale every LoRA update of `llm` (a peft model) by the row's gate: forward hooks on the lora_B layers."""
        from peft.tuners.lora import LoraLayer

        hooked = 0
        for module in llm.modules():
            if isinstance(module, LoraLayer):
                for lora_b in module.lora_B.values():
                    lora_b.register_forward_hook(self._scale)
                    hooked += 1
        if not hooked:
            raise ValueError("the adapter gate needs a LoRA adapter to scale")

    def _scale(self, module, inputs, output: torch.Tensor) -> torch.Tensor:
        if self.values is None or self.values.shape[0] != output.shape[0]:
            have = None if self.values is None else self.values.shape[0]
            raise RuntimeError(f"adapter gate: {have} gate values for a batch of {output.shape[0]} rows (route first)")
        return output * self.values.view(-1, *[1] * (output.dim() - 1)).to(output.dtype)

    # ---- fitting ----------------------------------------------------------------------------------------------------
    @torch.enable_grad()
    def fit(self, z: torch.Tensor, labels: torch.Tensor, steps: int = 400, lr: float = 0.05,
            l2: float = 1e-3) -> float:
        """Logistic regression of labels (N,) ∈ {0, 1} on z (N, 2·d_llm), the two classes weighted equally; returns
        the final loss. Standardises z first (the statistics become buffers)."""
        z, labels = z.float(), labels.float()
        if not (labels.min() == 0 and labels.max() == 1):
            raise ValueError("fitting the adapter gate needs turns of both kinds (labels 0 and 1)")
        self.mean.copy_(z.mean(0))
        self.std.copy_(z.std(0) + 1e-6)
        weight = torch.where(labels > 0, 0.5 / (labels > 0).sum(), 0.5 / (labels == 0).sum())  # (N,)
        with torch.no_grad():
            self.weight.zero_()
            self.bias.zero_()
        optimizer = torch.optim.Adam([self.weight, self.bias], lr=lr)
        standard = (z - self.mean) / self.std
        for _ in range(steps):
            optimizer.zero_grad()
            loss = (nn.functional.binary_cross_entropy_with_logits(standard @ self.weight + self.bias, labels,
                                                                   reduction="none") * weight).sum()
            (loss + l2 * self.weight.square().sum()).backward()
            optimizer.step()
        return float(loss.detach())

    # ---- files ------------------------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        save_file({k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}, path,
                  metadata={"layer": str(self.layer)})

    @classmethod
    def load(cls, path: str | os.PathLike) -> AdapterGate:
        with safe_open(path, "pt") as f:
            layer = int(f.metadata()["layer"])
        state = load_file(path)
        gate = cls(state["weight"].shape[0] // 2, layer)
        gate.load_state_dict(state)
        return gate.requires_grad_(False)
