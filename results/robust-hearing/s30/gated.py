"""Session 30 what-if: a per-turn gate on the LoRA adapter, fitted as a router on the training rows.

Session 29 found that the adapter, not the voice token, moves the content answers (the default answers 300 dev questions
as its cascade on 79.0%, on 92.7% with the adapter off) while the hearing needs it. A gate g ∈ (0, 1) per turn scales
every LoRA update: ΔW·x → g·ΔW·x, with g = σ(w·z + b) on standardised features z of the user turn's own words
(everything after the first prosody placeholder: transcript, instruction, the template's end; never the voice):
  embed      [mean, max] of their frozen input embeddings (a bag of words)
  hidden:L   [mean over the turn, last token] of the text LLM's layer-L hidden states on the prompt without its
             placeholders (the adapter off): the text LLM's own reading of what is asked; one more prefill per turn
One forward path for every input: no code looks at the task; the router is a learned part of the model.
Trained continuations (`train.sh gtn-*`) keep the router fixed; each row's gate comes from its prompt alone.

The router is a logistic regression: the default step's paralinguistic rows and every train phrasing over train
transcripts → 1, its content rows → 0 (`s11/cont-yn.yaml`'s data). `fit` writes MODEL + `adapter_gate.safetensors`;
`probe` fits in memory and prints where the dev and held-out probe phrasings (over dev_unseen transcripts) and the 300
dev questions and 53 dev requests fall. A loaded TextPro-SLM whose directory holds the gate file runs gated when
PYTHONPATH holds `hook/` (its sitecustomize patches `TextProSLM._load`), so every check script runs unchanged.
  gated.py fit MODEL_DIR OUT_DIR [--kind K]      gated.py probe MODEL_DIR [--kind K]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
from contextlib import nullcontext
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

GATE_NAME = "adapter_gate.safetensors"
# Training only: the share of content rows (the KL rows) whose prosody input is the projector's training mean, so that
# the content answers learn to ignore the mean voice too (the prosody-neutral diagnostic reads it). Environment
# variable GATE_NEUTRAL_CONTENT (default 0: none).
NEUTRAL_CONTENT = float(os.environ.get("GATE_NEUTRAL_CONTENT", "0"))


def turn_features(slm, input_ids: torch.Tensor, kind: str, prompt_mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B, L) prompt ids (any padding) -> (B, F): features of each row's tokens after its first placeholder.
    prompt_mask (B, L): a training batch's prompt positions (its response and padding left out)."""
    rows, starts = [], []
    for i, row in enumerate(input_ids):
        row = row if prompt_mask is None else row[prompt_mask[i]]
        row = row[row != slm.builder.pad_id] if kind == "embed" else row
        slots = (row == slm.placeholder_id).nonzero()
        start = int(slots[0]) if len(slots) else 0
        text_only = row[row != slm.placeholder_id]
        if kind != "embed":  # left padding: the pads go, the template's head stays
            text_only = text_only[(text_only != slm.builder.pad_id).cumsum(0) > 0] if slm.builder.pad_id is not None \
                else text_only
            start -= int((row[:start] == slm.builder.pad_id).sum())
        rows.append(text_only)
        starts.append(start)
    if kind == "embed":
        table = slm.llm.get_input_embeddings().weight  # (V, d)
        return torch.stack([torch.cat([table[r[s:]].float().mean(0), table[r[s:]].float().amax(0)])
                            for r, s in zip(rows, starts, strict=True)])
    layer = int(kind.split(":")[1])
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), slm.builder.pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)], mask[i, :len(r)] = r, 1
    off = slm.llm.disable_adapter() if slm.is_lora else nullcontext()
    with off, torch.no_grad():
        hidden = slm.llm(input_ids=ids.to(slm.device), attention_mask=mask.to(slm.device), output_hidden_states=True,
                         use_cache=False).hidden_states[layer].float()  # (B, T, d)
    return torch.stack([torch.cat([hidden[i, s:len(r)].mean(0), hidden[i, len(r) - 1]])
                        for i, (r, s) in enumerate(zip(rows, starts, strict=True))])


class TurnGate(nn.Module):
    def __init__(self, d_in: int, kind: str):
        super().__init__()
        self.kind = kind
        self.weight = nn.Parameter(torch.zeros(d_in))
        self.bias = nn.Parameter(torch.zeros(()))
        self.register_buffer("mean", torch.zeros(d_in))
        self.register_buffer("std", torch.ones(d_in))
        self.current: torch.Tensor | None = None  # (B,) the gate of the batch being run
        self.held = False  # True while a training step runs on the gate it set from the prompts

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B,)
        return torch.sigmoid((z - self.mean) / self.std @ self.weight + self.bias)


def attach(slm, gate: TurnGate) -> None:
    """Scale every LoRA update of the batch's row i by gate.current[i], set from the prompt at each `embed`."""
    slm.adapter_gate = gate.requires_grad_(False)  # fitted as a router, not trained by the LLM's loss
    embed = slm.embed

    def gated_embed(input_ids, prosody_vectors=None, prosody_mask=None):
        if not gate.held:  # a training step sets the gate from its prompts (install's response_loss)
            gate.current = gate(turn_features(slm, input_ids, gate.kind)).detach()
        return embed(input_ids, prosody_vectors, prosody_mask)

    slm.embed = gated_embed

    def scale(module, inputs, output):
        g = gate.current
        if g is None or g.shape[0] != output.shape[0]:
            rows = None if g is None else g.shape[0]
            raise RuntimeError(f"adapter gate: {rows} rows for a batch of {output.shape[0]}")
        return output * g.view(-1, *[1] * (output.dim() - 1)).to(output.dtype)

    hooked = [m.register_forward_hook(scale) for n, m in slm.llm.named_modules() if n.endswith("lora_B.default")]
    if not hooked:
        raise RuntimeError("adapter gate: the model has no LoRA adapter")


def install() -> None:
    """Patch TextProSLM._load: a directory with GATE_NAME gets its gate attached."""
    from textpro.slm.model import TextProSLM

    load = TextProSLM._load.__func__

    def _load(cls, directory, config, dtype, device, is_trainable):
        slm = load(cls, directory, config, dtype, device, is_trainable)
        path = Path(directory) / GATE_NAME
        if path.is_file() and getattr(slm, "gate", None) is None:  # src's own gate (textpro.slm.gate) comes first
            with safe_open(path, "pt") as f:
                kind = f.metadata()["kind"]
            state = load_file(path)
            gate = TurnGate(state["weight"].shape[0], kind)
            gate.load_state_dict(state)
            attach(slm, gate)
        return slm

    TextProSLM._load = classmethod(_load)

    # Training: the gate of each row comes from its prompt alone (not its response), set once per step
    from textpro.slm.training import SLMObjective
    from textpro.train.kind import IGNORE_INDEX

    response_loss = SLMObjective.response_loss

    def gated_response_loss(self, batch):
        gate = getattr(self.slm, "adapter_gate", None)  # this file's gate; src's own (slm.gate) routes by itself
        gated = gate is not None or getattr(self.slm, "gate", None) is not None
        if gated and NEUTRAL_CONTENT > 0 and "kd_row" in batch:  # content rows read the training mean on this share
            rows = batch["kd_row"] & (torch.rand(len(batch["kd_row"])) < NEUTRAL_CONTENT)
            vectors = batch["prosody_vectors"].clone()
            vectors[rows] = self.slm.projector.neutral_input().to(vectors)
            batch = {**batch, "prosody_vectors": vectors}
        if gate is None:
            return response_loss(self, batch)
        prompt = batch["attention_mask"].bool() & (batch["labels"] == IGNORE_INDEX)
        gate.current = gate(turn_features(self.slm, batch["input_ids"], gate.kind, prompt)).detach()
        gate.held = True
        try:
            return response_loss(self, batch)
        finally:
            gate.held = False

    SLMObjective.response_loss = gated_response_loss


def metadata(kind: str) -> dict[str, str]:
    """The gate file's metadata: this file's `kind`, and for a hidden-state router the `layer` that src's own
    `textpro.slm.gate.AdapterGate` reads (the same features, the same file: src runs it without this harness)."""
    return {"kind": kind, **({"layer": kind.split(":")[1]} if kind.startswith("hidden:") else {})}


def prompt_ids(slm, text: str, instruction: str | None) -> torch.Tensor:
    """The builder's prompt for a transcript (global injection: one placeholder before the transcript)."""
    before, after, _, _ = slm.builder.template(instruction)
    ids = slm.tokenizer.encode(slm.builder._clean(text), add_special_tokens=False)
    return torch.tensor(before + [slm.placeholder_id] + ids + after)


def features(slm, pairs, kind: str, batch: int = 32) -> torch.Tensor:
    out = []
    for i in range(0, len(pairs), batch):
        rows = [prompt_ids(slm, t, q) for t, q in pairs[i:i + batch]]
        width = max(len(r) for r in rows)  # left padding, as generation
        ids = torch.stack([torch.cat([torch.full((width - len(r),), slm.builder.pad_id), r]) for r in rows])
        out.append(turn_features(slm, ids, kind))
    return torch.cat(out)


def training_turns(rows_per_phrasing: int = 8):
    """(transcript, instruction, 1 | 0): every train phrasing over its task's train transcripts, 600 paralinguistic
    rows as drawn, every content row."""
    from textpro.data.paralinguistic import read_phrasings
    from textpro.slm.featurize import FeatureStore
    from textpro.slm.tasks import distillation_examples, paralinguistic_examples
    from textpro.slm.training import SLMTrainingConfig

    rng = random.Random(0)
    cfg = SLMTrainingConfig.from_yaml("results/robust-hearing/s11/cont-yn.yaml", stage=2)  # the default step's data
    stores = [FeatureStore(d) for d in cfg.features]
    para = paralinguistic_examples(stores, cfg.paralinguistic)
    content = distillation_examples(stores, cfg.distill)
    text = lambda e: e.text if e.text is not None else stores[e.store][e.index]["text"]  # noqa: E731
    by_task = {}
    for e in para:
        by_task.setdefault(e.kind, []).append(e)
    phrasings = read_phrasings(Path("src/textpro/data/phrasings.yaml"))
    turns = [(text(rng.choice(by_task[task])), p.text, 1) for task, splits in phrasings.items() if task in by_task
             for p in splits["train"] for _ in range(rows_per_phrasing)]
    turns += [(text(e), e.instruction, 1) for e in rng.sample(para, min(len(para), 600))]
    return turns + [(text(e), e.instruction, 0) for e in content]


def fit_gate(slm, kind: str) -> TurnGate:
    torch.manual_seed(0)
    turns = training_turns()
    x = features(slm, [(t, q) for t, q, _ in turns], kind)
    y = torch.tensor([float(label) for _, _, label in turns])
    weight = torch.where(y > 0, 0.5 / (y > 0).sum(), 0.5 / (y == 0).sum())  # the two kinds weigh the same
    gate = TurnGate(x.shape[1], kind)
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
    print(f"router ({kind}) fitted on {int((y > 0).sum())} paralinguistic and {int((y == 0).sum())} content turns: "
          f"loss {loss.item():.4f}; gate on paralinguistic turns min {g[y > 0].min():.3f} "
          f"median {g[y > 0].median():.3f}, on content turns max {g[y == 0].max():.3f} median {g[y == 0].median():.4f}")
    return gate


def probe(slm, gate: TurnGate) -> None:
    """Where unseen turns fall: dev and held-out probe phrasings over dev_unseen transcripts (want 1), the 300 dev
    questions and 53 dev requests (want 0)."""
    from textpro.data.paralinguistic import read_phrasings
    from textpro.slm.featurize import FeatureStore

    rng = random.Random(1)
    dev = FeatureStore("runs/s9/feat/bigdev_default")
    transcripts = [dev[i]["text"] for i in rng.sample(range(len(dev)), 60)]
    sets = {}
    for name, path, split in (("dev phrasings", "src/textpro/data/phrasings.yaml", "dev"),
                              ("probe phrasings", "results/robust-hearing/s10/probe-phrasings.yaml", "probe")):
        for task, splits in read_phrasings(Path(path)).items():
            sets.setdefault(name, []).extend((rng.choice(transcripts), f"{p.text}", task)
                                             for p in splits.get(split, []) for _ in range(3))
    for name, bench in (("300 spoken questions", "runs/s12/bigsem"), ("53 spoken requests", "runs/s15/bigreq")):
        rows = [json.loads(line) for line in open(Path(bench) / "dev_unseen.jsonl")]
        sets[name] = [(r["text"], None, r["task"]) for r in rows if r["task"] in ("semantic", "request")]
    for name, items in sets.items():
        g = gate(features(slm, [(t, q) for t, q, _ in items], gate.kind)).detach()
        want = "phrasings" in name
        right = (g > 0.5) if want else (g < 0.5)
        print(f"{name:22s} n {len(items):3d}  right side {100 * right.float().mean():5.1f}%  gate min {g.min():.3f} "
              f"median {g.median():.3f} max {g.max():.3f}  below 0.9 (want 1) {100 * (g < 0.9).float().mean():.0f}%")
        for (t, q, task), gi, ok in zip(items, g.tolist(), right.tolist(), strict=True):
            if not ok or (want and gi < 0.9):
                print(f"    {gi:.3f}  {task}: {(q or t)[:90]!r}")


if __name__ == "__main__":
    from textpro.slm.model import TextProSLM

    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["fit", "probe"])
    ap.add_argument("model")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--kind", default="embed", help="embed | hidden:L")
    args = ap.parse_args()
    slm = TextProSLM.from_pretrained(args.model)
    gate = fit_gate(slm, args.kind)
    if args.cmd == "probe":
        probe(slm, gate)
    else:
        shutil.copytree(args.model, args.out)
        save_file({k: v.detach().contiguous() for k, v in gate.state_dict().items()}, Path(args.out) / GATE_NAME,
                  metadata=metadata(args.kind))
        print(f"wrote {args.out}")
