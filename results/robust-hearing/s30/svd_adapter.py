"""Session 30: a model whose LoRA update keeps only each module's K largest singular directions.

For every adapted module the update is ΔW = (α/r)·B·A with B (out × r), A (r × in). Its SVD comes cheaply from two
thin QRs (B = Qb·Rb, Aᵀ = Qa·Ra, so B·A = Qb·(Rb·Raᵀ)·Qaᵀ and only the r × r core is decomposed). The variant writes
B' = Qb·U_K·√S_K and A' = √S_K·V_Kᵀ·Qaᵀ padded with zeros back to rank r: same shapes, same config, same scaling, so
every loader reads it as before. Everything else in the model directory is copied unchanged.
  svd_adapter.py MODEL_DIR OUT_DIR --keep K        writes OUT_DIR, prints the share of ‖ΔW‖² kept
  svd_adapter.py MODEL_DIR --spectrum              prints the per-module energy in the top 1, 2, 4, 8, 12 directions
"""
import argparse
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def pairs(state: dict[str, torch.Tensor]) -> list[tuple[str, str]]:
    """(lora_A key, lora_B key) of every adapted module."""
    return [(k, k.replace("lora_A", "lora_B")) for k in sorted(state) if "lora_A" in k]


def factor(b: torch.Tensor, a: torch.Tensor):
    """B·A = P·diag(s)·Qᵀ with P (out × r), Q (in × r), s descending."""
    qb, rb = torch.linalg.qr(b.double())                  # (out, r), (r, r)
    qa, ra = torch.linalg.qr(a.double().T)                # (in, r), (r, r)
    u, s, vh = torch.linalg.svd(rb @ ra.T)                # core (r, r)
    return qb @ u, s, qa @ vh.T


def truncate(b: torch.Tensor, a: torch.Tensor, keep: int):
    p, s, q = factor(b, a)
    root = s[:keep].sqrt()
    new_b = torch.zeros_like(b, dtype=torch.float64)
    new_a = torch.zeros_like(a, dtype=torch.float64)
    new_b[:, :keep] = p[:, :keep] * root                  # (out, K)
    new_a[:keep] = root[:, None] * q[:, :keep].T          # (K, in)
    kept = float((s[:keep] ** 2).sum() / (s ** 2).sum())
    return new_b.to(b.dtype), new_a.to(a.dtype), kept


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--keep", type=int)
    ap.add_argument("--spectrum", action="store_true")
    args = ap.parse_args()
    state = load_file(Path(args.model) / "adapter_model.safetensors")
    if args.spectrum:
        by_kind: dict[str, list[torch.Tensor]] = {}
        for ka, kb in pairs(state):
            _, s, _ = factor(state[kb], state[ka])
            energy = (s ** 2).cumsum(0) / (s ** 2).sum()
            by_kind.setdefault(ka.split(".")[-3], []).append(energy)
        print(f"{args.model}: share of ||dW||^2 in the top K singular directions (mean over layers)")
        print("module     " + "".join(f"  K={k:<3d}" for k in (1, 2, 4, 8, 12)))
        for kind, energies in sorted(by_kind.items()):
            e = torch.stack(energies).mean(0)
            print(f"{kind:10s} " + "".join(f"  {float(e[k - 1]):.3f}" for k in (1, 2, 4, 8, 12)))
        return
    out = Path(args.out)
    shutil.copytree(args.model, out, dirs_exist_ok=False)
    new, kept = dict(state), []
    for ka, kb in pairs(state):
        new[kb], new[ka], share = truncate(state[kb], state[ka], args.keep)
        kept.append(share)
    save_file(new, out / "adapter_model.safetensors", metadata={"format": "pt"})
    print(f"{out}: top {args.keep} directions kept in {len(kept)} modules; share of ||dW||^2 kept: "
          f"mean {sum(kept) / len(kept):.3f}, min {min(kept):.3f}")


if __name__ == "__main__":
    main()
