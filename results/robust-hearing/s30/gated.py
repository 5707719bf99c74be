"""Session 30 what-if: a per-turn gate on the LoRA adapter, fitted as a router on the training rows.

Session 29 found that the adapter, not the voice token, moves the content answers (the default answers 300 dev questions
as its cascade on 79.0%, on 92.7% with the adapter off) while the hearing needs it. A gate g ∈ (0, 1) per turn scales
every LoRA update: ΔW·x → g·ΔW·x. g = σ(w·z + b), z = [mean, max] of the frozen input embeddings of the user turn's own
tokens (everything after the first prosody placeholder: transcript, instruction, the template's end; placeholders and
pads left out), standardised. One forward path for every input: no code looks at the task; the router is a learned
part of the model that reads the same prompt the LLM reads.

This file fits the router (logistic regression: the default step's paralinguistic rows, each asked a train phrasing,
→ 1; its content rows → 0) and attaches it to a loaded TextPro-SLM whose directory holds `adapter_gate.safetensors`
(a patch on `TextProSLM._load`, installed by `hook/sitecustomize.py` when PYTHONPATH holds that folder), so every
check script runs the gated model unchanged. Not in `src/`: a what-if first.
  gated.py fit MODEL_DIR OUT_DIR [--rows-per-phrasing N]   -> OUT_DIR = MODEL_DIR + adapter_gate.safetensors
"""
from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

GATE_NAME = "adapter_gate.safetensors"


def user_features(slm, input_ids: torch.Tensor) -> torch.Tensor:
    """(B, L) prompt ids -> (B, 2d): mean and max of the embeddings of each row's tokens after its first placeholder."""
    table = slm.llm.get_input_embeddings().weight  # (V, d)
    out = []
    for row in input_ids:
        slots = (row == slm.placeholder_id).nonzero()
        start = int(slots[0]) + 1 if len(slots) else 0
        tokens = row[start:]
        tokens = tokens[(tokens != slm.placeholder_id) & (tokens != slm.builder.pad_id)]
        e = table[tokens].float()  # (T, d)
        out.append(torch.cat([e.mean(0), e.amax(0)]))
    return torch.stack(out)


class TurnGate(nn.Module):
    def __init__(self, d_in: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(d_in))
        self.bias = nn.Parameter(torch.zeros(()))
        self.register_buffer("mean", torch.zeros(d_in))
        self.register_buffer("std", torch.ones(d_in))
        self.current: torch.Tensor | None = None  # (B,) the gate of the batch being run

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, d_in) -> (B,)
        return torch.sigmoid((z - self.mean) / self.std @ self.weight + self.bias)


def attach(slm, gate: TurnGate) -> None:
    """Scale every LoRA update of the batch's row i by gate.current[i], set from the prompt at each `embed`."""
    slm.adapter_gate = gate
    embed = slm.embed

    def gated_embed(input_ids, prosody_vectors=None, prosody_mask=None):
        gate.current = gate(user_features(slm, input_ids)).detach()
        return embed(input_ids, prosody_vectors, prosody_mask)

    slm.embed = gated_embed

    def scale(module, inputs, output):
        g = gate.current
        if g is None or g.shape[0] != output.shape[0]:
            raise RuntimeError(f"adapter gate: {None if g is None else g.shape[0]} rows for a batch of {output.shape[0]}")
        return output * g.view(-1, *[1] * (output.dim() - 1)).to(output.dtype)

    n = 0
    for name, module in slm.llm.named_modules():
        if name.endswith("lora_B.default"):
            module.register_forward_hook(scale)
            n += 1
    if not n:
        raise RuntimeError("adapter gate: the model has no LoRA adapter")


def install() -> None:
    """Patch TextProSLM._load: a directory with GATE_NAME gets its gate attached."""
    from textpro.slm.model import TextProSLM

    load = TextProSLM._load.__func__

    def _load(cls, directory, config, dtype, device, is_trainable):
        slm = load(cls, directory, config, dtype, device, is_trainable)
        if (Path(directory) / GATE_NAME).is_file():
            state = load_file(Path(directory) / GATE_NAME)
            gate = TurnGate(state["weight"].shape[0])
            gate.load_state_dict(state)
            attach(slm, gate)
        return slm

    TextProSLM._load = classmethod(_load)


def fit(model_dir: str, out_dir: str, rows_per_phrasing: int) -> None:
    from textpro.data.paralinguistic import read_phrasings
    from textpro.slm.featurize import FeatureStore
    from textpro.slm.model import TextProSLM
    from textpro.slm.tasks import distillation_examples, paralinguistic_examples
    from textpro.slm.training import SLMTrainingConfig

    rng = random.Random(0)
    torch.manual_seed(0)
    slm = TextProSLM.from_pretrained(model_dir)
    cfg = SLMTrainingConfig.from_yaml("results/robust-hearing/s11/cont-yn.yaml", stage=2)  # the default step's data
    stores = [FeatureStore(d) for d in cfg.features]
    para = paralinguistic_examples(stores, cfg.paralinguistic)
    content = distillation_examples(stores, cfg.distill)
    phrasings = read_phrasings(Path("src/textpro/data/phrasings.yaml"))

    def text(e):
        return e.text if e.text is not None else stores[e.store][e.index]["text"]

    def features(pairs):
        ids = [slm.builder.prompt({"text": t, "token_ids": [], "utterance": [0.0] * slm.config.d_whisper,
                                   "prosody": [[0.0] * slm.config.d_whisper]}, i).input_ids for t, i in pairs]
        return torch.cat([user_features(slm, torch.tensor([row])) for row in ids])

    # every train phrasing of every task over transcripts of its task's train clips; every content row as trained
    transcripts = {}
    for e in para:
        transcripts.setdefault(e.kind, []).append(e)
    turns = [(text(rng.choice(transcripts[task])), p.text) for task, splits in phrasings.items() if task in transcripts
             for p in splits["train"] for _ in range(rows_per_phrasing)]
    turns += [(text(e), e.instruction) for e in rng.sample(para, min(len(para), 600))]
    x_para = features(turns)
    x_content = features([(text(e), e.instruction) for e in content])
    x = torch.cat([x_para, x_content])
    y = torch.cat([torch.ones(len(x_para)), torch.zeros(len(x_content))])
    weight = torch.where(y > 0, 0.5 / len(x_para), 0.5 / len(x_content))  # the two kinds weigh the same
    gate = TurnGate(x.shape[1])
    gate.mean.copy_(x.mean(0))
    gate.std.copy_(x.std(0) + 1e-6)
    opt = torch.optim.Adam(gate.parameters(), lr=0.05)
    for _ in range(400):
        opt.zero_grad()
        logits = (x - gate.mean) / gate.std @ gate.weight + gate.bias
        loss = (nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none") * weight).sum() \
            + 1e-3 * gate.weight.square().sum()
        loss.backward()
        opt.step()
    with torch.no_grad():
        g = gate(x)
    print(f"router fitted on {len(x_para)} paralinguistic turns ({len(turns) - min(len(para), 600)} over every train "
          f"phrasing) and {len(x_content)} content rows: loss {loss.item():.4f}; gate on paralinguistic turns min "
          f"{g[y > 0].min():.3f} median {g[y > 0].median():.3f}, on content rows max {g[y == 0].max():.3f} median "
          f"{g[y == 0].median():.4f}")
    shutil.copytree(model_dir, out_dir)
    save_file({k: v.detach().contiguous() for k, v in gate.state_dict().items()}, Path(out_dir) / GATE_NAME)
    print(f"wrote {out_dir}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fit")
    f.add_argument("model")
    f.add_argument("out")
    f.add_argument("--rows-per-phrasing", type=int, default=8)
    args = ap.parse_args()
    fit(args.model, args.out, args.rows_per_phrasing)
