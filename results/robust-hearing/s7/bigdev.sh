#!/bin/bash
# A larger dev_unseen (120 clips per task) for choosing stage-2 variants: n 30 cannot separate them.
#   bigdev.sh [OUT [NAME=WHISPERPRO ...]]   (session 7: runs/s7 r6=runs/r6/mini/whisperpro/model)
# writes OUT/data/dev_unseen_para.jsonl (360 clips) and OUT/feat/bigdev_NAME, featurized with each WhisperPro.
set -e
cd /work/main
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
out=${1:-runs/s7}
shift || true
[ $# -gt 0 ] || set -- r6=runs/r6/mini/whisperpro/model
.venv/bin/textpro data make-mini --out $out/data --seed 0 --hours 0.05 --workers 1 --no-robust \
  --dev-unseen-semantic 4 --dev-unseen-per-task 120 --dev-unseen-requests 1 \
  --test-unseen-semantic 1 --test-unseen-per-task 1 --test-unseen-requests 1 --quiet
OUT=$out .venv/bin/python - <<'PY'
import json, os
out = os.environ["OUT"]
rows = [json.loads(l) for l in open(f"{out}/data/dev_unseen.jsonl")]
keep = [r for r in rows if r.get("task") in ("gender", "pitch", "rate")]
open(f"{out}/data/dev_unseen_para.jsonl", "w").write("".join(json.dumps(r) + "\n" for r in keep))
print(len(rows), "->", len(keep))
PY
for pair in "$@"; do
  .venv/bin/textpro featurize $out/data/dev_unseen_para.jsonl --whisperpro ${pair#*=} --out $out/feat/bigdev_${pair%%=*}
done
