"""Session 23: can the projector carry accent at all? A copy of a model's projector and a linear accent head are
trained together, full batch, on the projector inputs of the train cache's espeak accent clips (no LLM: only what the
token could hold), and the head is scored on the 210 dev accent clips (balanced %). With --encoder the copy gains the
mean encoder state through a new zero weight (`add_encoder_branch`, as `slm.encoder_summary` does). A linear probe on
the inputs is the reference (s19/probe_encoder.py's fit).
    python results/robust-hearing/s23/projector_fit.py MODEL [--encoder [--only-encoder]] [--steps N] [--lr LR]
"""
import argparse
import copy
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "s19"))
sys.path.insert(0, str(HERE / "s21"))
sys.path.insert(0, str(HERE.parents[1] / "benchmarks"))
from hearing_check import load_model  # noqa: E402
from probe_encoder import ACCENTS, balanced  # noqa: E402

from textpro.slm.featurize import FeatureStore  # noqa: E402

torch.set_num_threads(1)


def accent_records(store, dev):
    out, y = [], []
    for i, entry in enumerate(store.index):
        m = entry["manifest"]
        label = m.get("reference") if dev else m.get("accent")
        if label in ACCENTS and m.get("engine", "espeak-ng") == "espeak-ng":
            out.append(store[i])
            y.append(ACCENTS.index(label))
    return out, torch.tensor(y)


def inputs(model, recs, encoder):
    rows = np.concatenate([model.builder.speech(r)[1] for r in recs])  # (N, d + k): global injection, one row each
    if encoder:
        rows = np.concatenate([rows, np.array([r["encoder_mean"] for r in recs])], axis=1)
    return torch.tensor(rows, dtype=torch.float32)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--encoder", action="store_true")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--only-encoder", action="store_true", help="train the new encoder weight only")
    args = parser.parse_args()
    model = load_model(Path(args.model))
    (train, y), (dev, yd) = (accent_records(FeatureStore("runs/s9/features/train"), False),
                             accent_records(FeatureStore("runs/s19/feat/dev_accent210"), True))
    X, Xd = inputs(model, train, args.encoder), inputs(model, dev, args.encoder)
    projector = copy.deepcopy(model.projector).float().train()
    if args.encoder:
        projector.add_encoder_branch(384)
        projector.fit_encoder_input(X[:, -384:])
    projector.requires_grad_(True)
    if args.only_encoder:
        projector.requires_grad_(False)
        projector.linear_encoder.requires_grad_(True)
    before = projector(X).detach()
    head = torch.nn.Linear(before.shape[1], len(ACCENTS))
    trained = [p for p in projector.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam([*trained, *head.parameters()], lr=args.lr)
    for step in range(args.steps + 1):
        if step % args.every == 0:
            with torch.no_grad():
                projector.eval()
                train_acc = balanced(head(projector(X)).argmax(1).numpy(), y.numpy())
                dev_acc = balanced(head(projector(Xd)).argmax(1).numpy(), yd.numpy())
                moved = (projector(X) - before).norm(dim=1).mean() / before.norm(dim=1).mean()
                projector.train()
            print(f"step {step:4d}  train {train_acc:5.1f}  dev {dev_acc:5.1f}  "
                  f"output moved {100 * moved:5.1f}% of its norm", flush=True)
        loss = torch.nn.functional.cross_entropy(head(projector(X)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    main()
