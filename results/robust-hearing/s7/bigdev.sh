#!/bin/bash
# A larger dev_unseen (120 clips per task) for choosing stage-2 variants: n 30 cannot separate them.
set -e
cd /work/main
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
.venv/bin/textpro data make-mini --out runs/s7/data --seed 0 --hours 0.05 --workers 1 --no-robust \
  --dev-unseen-semantic 4 --dev-unseen-per-task 120 --dev-unseen-requests 1 \
  --test-unseen-semantic 1 --test-unseen-per-task 1 --test-unseen-requests 1 --quiet
.venv/bin/python - <<'PY'
import json
rows = [json.loads(l) for l in open("runs/s7/data/dev_unseen.jsonl")]
keep = [r for r in rows if r.get("task") in ("gender", "pitch", "rate")]
open("runs/s7/data/dev_unseen_para.jsonl", "w").write("".join(json.dumps(r) + "\n" for r in keep))
print(len(rows), "->", len(keep))
PY
.venv/bin/textpro featurize runs/s7/data/dev_unseen_para.jsonl --whisperpro runs/r6/mini/whisperpro/model --out runs/s7/feat/bigdev_r6
