"""Session 24: which part of the stage-2 LoRA adapter moves the open answers, and which part hears? Writes a copy of
a model whose adapter has the chosen modules' LoRA update removed (lora_B set to 0), for `s15/request_diag.py` and
`benchmarks/hearing_check.py` to measure. No training.
  adapter_parts.py MODEL OUT PART   PART: mlp | attn | early | late  (early/late: layers below/from the middle)"""
import json
import re
import shutil
import sys
from pathlib import Path

from safetensors.torch import load_file, save_file

model, out, part = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
weights = load_file(model / "adapter_model.safetensors")
layers = 1 + max(int(m.group(1)) for k in weights if (m := re.search(r"\.layers\.(\d+)\.", k)))
parts = {
    "mlp": lambda key, layer: re.search(r"\.(gate|up|down)_proj\.", key),
    "attn": lambda key, layer: re.search(r"\.(q|k|v|o)_proj\.", key),
    "early": lambda key, layer: layer < layers // 2,
    "late": lambda key, layer: layer >= layers // 2,
}
drop = parts[part]
removed = 0
for key, value in weights.items():
    layer = int(re.search(r"\.layers\.(\d+)\.", key).group(1))
    if "lora_B" in key and drop(key, layer):
        weights[key] = value * 0
        removed += 1
out.mkdir(parents=True, exist_ok=True)
for item in model.iterdir():
    if item.name == "adapter_model.safetensors":
        continue
    target = out / item.name
    if not target.exists():
        (shutil.copytree if item.is_dir() else shutil.copy)(item, target)
save_file(weights, out / "adapter_model.safetensors")
print(json.dumps({"model": str(model), "part": part, "lora_B_removed": removed,
                  "lora_B_total": sum("lora_B" in k for k in weights), "layers": layers}))
