"""How much of a trained projector's output the measured acoustics move, and how well its output separates gender.

For each TextPro-SLM directory: the mean norm of the projected vectors of a feature cache's gender clips, how far
they move when the acoustics (or the learned vectors) are replaced by their training means, and a 5-fold linear-probe
gender accuracy of the projected vectors, of the acoustics-only projection, and of the raw median F0 alone.

    python benchmarks/projector_probe.py runs/mini/features/train runs/s3/v1-default runs/s3/v2-default
"""

from __future__ import annotations

import argparse


def fit_logistic(z, target):
    """(w, b) of an L2-regularised logistic regression fitted with LBFGS; z (N, D) standardised, target (N,) 0/1."""
    import torch
    import torch.nn.functional as F

    w = torch.zeros(z.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b], max_iter=200)

    def closure():
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(z @ w + b, target) + 1e-2 * w.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return w.detach(), b.detach()


def probe_accuracy(features, labels, folds: int = 5) -> float:
    """Mean held-out accuracy of `fit_logistic` over `folds` interleaved folds of a seeded shuffle."""
    import numpy as np
    import torch

    z = torch.as_tensor(features).float()
    z = (z - z.mean(0)) / z.std(0).clamp(min=1e-6)
    target = torch.as_tensor(labels).float()
    order = torch.randperm(len(z), generator=torch.Generator().manual_seed(0))
    accuracies = []
    for k in range(folds):
        test = order[k::folds]
        train = order[torch.isin(order, test, invert=True)]
        w, b = fit_logistic(z[train], target[train])
        accuracies.append(((z[test] @ w + b > 0).float() == target[test]).float().mean().item())
    return float(np.mean(accuracies))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("features", help="a feature cache (`textpro featurize`) whose records include gender clips")
    parser.add_argument("models", nargs="+",
                        help="TextPro-SLM directories with acoustic_features (projector.safetensors)")
    args = parser.parse_args()

    import torch
    from safetensors.torch import load_file

    from textpro.slm.featurize import FeatureStore
    from textpro.slm.projector import ProsodyProjector

    store = FeatureStore(args.features)
    rows, female = [], []
    for i, entry in enumerate(store.index):
        manifest = entry.get("manifest", {})
        if manifest.get("task") == "gender":
            record = store[i]
            rows.append(torch.cat([torch.as_tensor(record["utterance"]).float(),
                                   torch.as_tensor(record["acoustics"]).float()]))
            female.append(manifest["reference"] == "female")
    inputs = torch.stack(rows)  # (N, d_whisper + k)
    print(f"{len(rows)} gender clips; raw median F0 alone: probe {probe_accuracy(inputs[:, -6:-5], female):.1%}")
    for directory in args.models:
        weights = load_file(f"{directory}/projector.safetensors")
        d_llm, width = weights["linear_in.weight"].shape
        n_acoustic = weights["acoustic_mean"].numel()
        projector = ProsodyProjector(width - n_acoustic, d_llm, zero_init=False, n_acoustic=n_acoustic)
        projector.load_state_dict({k: v.float() for k, v in weights.items()}, strict=False)
        projector.eval()
        d_whisper = width - n_acoustic
        mean_acoustics, mean_learned = inputs.clone(), inputs.clone()
        mean_acoustics[:, d_whisper:] = projector.acoustic_mean
        mean_learned[:, :d_whisper] = projector.input_mean
        with torch.no_grad():
            out, no_acoustics, acoustics_only = projector(inputs), projector(mean_acoustics), projector(mean_learned)
        print(f"{directory}: |projected| {out.norm(dim=1).mean():.2f}; moved by the acoustics "
              f"{(out - no_acoustics).norm(dim=1).mean():.3f}, by the learned vector "
              f"{(out - acoustics_only).norm(dim=1).mean():.3f}; gender probe on the projection "
              f"{probe_accuracy(out, female):.1%}, on the acoustics-only projection "
              f"{probe_accuracy(acoustics_only, female):.1%}")


if __name__ == "__main__":
    main()
