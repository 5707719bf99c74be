"""Session 47: where the mean voice sits among real voices, as the default's projector reads them. For the 360
dev_unseen clips (flite, runs/s9/feat/bigdev_default: featurized with the default's WhisperPro) the projector's input
and output at gain g (1.0 … 0 = the training mean, what the prosody-neutral diagnostic feeds): the standardised
input's norm, the output's norm, its cosine to the clips' mean output, and its nearest clip's distance, in units of
the median distance between two clips' outputs.

    OMP_NUM_THREADS=1 .venv/bin/python results/robust-hearing/s47/geometry.py > results/robust-hearing/s47/geometry.txt
"""
import numpy as np
import torch
from safetensors.torch import load_file

from textpro.slm import ProsodyProjector
from textpro.slm.featurize import FeatureStore

DEFAULT = "src/textpro/assets/default"


def main() -> None:
    torch.set_grad_enabled(False)
    state = load_file(f"{DEFAULT}/projector.safetensors")
    d_whisper, n_acoustic = state["input_mean"].numel(), state["acoustic_mean"].numel()
    projector = ProsodyProjector(d_whisper, state["linear_out.weight"].shape[0], zero_init=False, n_acoustic=n_acoustic)
    projector.load_state_dict(state, strict=False)
    projector.float().eval()
    store = FeatureStore("runs/s9/feat/bigdev_default")
    x = torch.from_numpy(np.stack([np.concatenate([r["utterance"], r["acoustics"]]) for r in store])).float()
    neutral = projector.neutral_input().float()
    z = torch.cat([(x[:, :d_whisper] - projector.input_mean) / projector.input_std,
                   (x[:, d_whisper:] - projector.acoustic_mean) * projector.acoustic_scale], dim=1)
    learned, acoustic = z[:, :d_whisper].norm(dim=1), z[:, d_whisper:].norm(dim=1)
    print(f"{len(x)} dev_unseen clips; standardised input norm: learned median {learned.median():.1f} (min "
          f"{learned.min():.1f}), acoustics median {acoustic.median():.1f} (min {acoustic.min():.1f}); the training "
          "mean reads 0 on both")
    full = projector(x)
    pair = torch.cdist(full, full)
    unit = float(pair[~torch.eye(len(x), dtype=torch.bool)].median())
    centroid = full.mean(0)
    print(f"output norm bound {float(projector.max_norm):.2f}; median distance between two clips' outputs {unit:.2f}\n")
    print("| gain | output norm (median) | cosine to the clips' mean output at g 1 (median) | nearest g-1 clip, "
          "in median inter-clip distances (median over clips) |")
    print("|---|---|---|---|")
    for gain in (1.0, 0.75, 0.5, 0.25, 0.0):
        out = projector(neutral + gain * (x - neutral))
        cos = torch.nn.functional.cosine_similarity(out, centroid[None], dim=1)
        nearest = torch.cdist(out, full)
        if gain == 1.0:
            nearest = nearest + torch.diag(torch.full((len(x),), float("inf")))
        print(f"| {gain} | {out.norm(dim=1).median():.2f} | {cos.median():.3f} | "
              f"{nearest.min(dim=1).values.median() / unit:.2f} |")


if __name__ == "__main__":
    main()
