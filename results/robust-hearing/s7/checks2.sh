#!/bin/bash
# The two stage-2 variants on the 360-clip dev_unseen, as each finishes.
cd /work/main
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1
check() { echo "=== $1 on $2"; .venv/bin/python benchmarks/hearing_check.py $1 $2 --threads 1 2>&1 | grep -v "Loading\|Warning\|warnings.warn"; }
for v in ratio08 frozenproj; do
  while [ ! -f runs/s7/ab/stage2-$v/model/adapter_model.safetensors ]; do sleep 15; done
  sleep 5; check runs/s7/ab/stage2-$v/model runs/s7/feat/bigdev_r6
done
