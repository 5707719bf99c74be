"""Session 30: a model + the adapter gate that `textpro train slm` fits (textpro.slm.training.fit_adapter_gate) on the
rows of the default's own step (`s22/hacc85-args.sh`, 35% content rows), without training a step: the router alone.
  fit_gate.py MODEL_DIR OUT_DIR [--layer L] [--seed S]   -> OUT_DIR: MODEL_DIR's files + adapter_gate.safetensors
"""
import argparse
import shlex
import shutil
import subprocess
from pathlib import Path

from textpro.slm.gate import GATE_NAME
from textpro.slm.training import SLMTrainingConfig, build

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("out")
ap.add_argument("--layer", type=int, default=15)
ap.add_argument("--seed", type=int, default=7)
args = ap.parse_args()
script = "source results/robust-hearing/s22/hacc85-args.sh; printf '%s\\n' \"${hacc85[@]}\""
hacc85 = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.split("\n")
overrides = [a for a, flag in zip(hacc85[1:], hacc85[:-1], strict=True) if flag == "--set"]
overrides += [f"init_from={args.model}", "paralinguistic.ratio=0.65", f"adapter_gate_layer={args.layer}",
              f"train.seed={args.seed}"]
config = SLMTrainingConfig.from_yaml(hacc85[hacc85.index("--config") + 1], stage=2, overrides=overrides)
print("overrides:", shlex.join(overrides))
objective, _, _ = build(config)
shutil.copytree(args.model, args.out)
objective.slm.gate.save(Path(args.out) / GATE_NAME)
print(f"wrote {args.out}")
