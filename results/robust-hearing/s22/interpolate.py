"""Session 22: weight-space interpolation between two exported SLMs that share a base and an adapter layout (WiSE-FT,
Wortsman et al. 2022; model soups): every float tensor of the adapter and the projector becomes (1 - alpha) * A +
alpha * B, and the adapter's update can be scaled towards the text LLM's own weights (lora_B * scale, i.e.
delta W * scale). One model, one forward path: nothing depends on the task. Teacher, WhisperPro, examples and the
configs come from B.
  interpolate.py A_DIR B_DIR OUT_DIR --alpha 0.5 [--lora-scale 1.0]
Since session 27 the toolkit has this without the scaling: `textpro soup A B --out OUT --weights 0.5 0.5` (any number
of checkpoints; it writes the same tensors as this script's α-mix, checked byte for byte on soup65x4).
"""
import argparse
import shutil
from pathlib import Path

from safetensors.torch import load_file, save_file


def mix(a: dict, b: dict, alpha: float, lora_scale: float = 1.0) -> dict:
    if set(a) != set(b):
        raise SystemExit(f"the two checkpoints differ in their tensors: {sorted(set(a) ^ set(b))[:4]}")
    out = {}
    for name, tb in b.items():
        ta = a[name]
        if ta.shape != tb.shape:
            raise SystemExit(f"{name}: shapes {tuple(ta.shape)} and {tuple(tb.shape)} differ")
        t = ((1 - alpha) * ta.float() + alpha * tb.float()) if tb.is_floating_point() else tb
        if "lora_B" in name:
            t = t * lora_scale
        out[name] = t.to(tb.dtype).contiguous()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("out")
    ap.add_argument("--alpha", type=float, required=True, help="0 gives A, 1 gives B")
    ap.add_argument("--lora-scale", type=float, default=1.0)
    args = ap.parse_args()
    a, b, out = Path(args.a), Path(args.b), Path(args.out)
    if out.exists():
        raise SystemExit(f"{out} exists")
    shutil.copytree(b, out)  # the two files below are then overwritten
    for f in ("adapter_model.safetensors", "projector.safetensors"):
        save_file(mix(load_file(a / f), load_file(b / f), args.alpha, args.lora_scale), out / f)
    print(f"{out}: {args.alpha} of {b} over {a}, adapter update x{args.lora_scale}")


if __name__ == "__main__":
    main()
