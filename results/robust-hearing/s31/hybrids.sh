#!/bin/bash
# Rule 14 (s30/decision.md): own-phrasing hearing of the two gn-s10 / gsrc hybrids (runs/s31/x-*-default).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
for arm in x-adapter x-projector; do
  f=results/robust-hearing/s31/hc-$arm.txt
  [ -s $f ] || .venv/bin/python benchmarks/hearing_check.py runs/s31/$arm-default runs/s9/feat/bigdev_default \
    --threads 2 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $f
  echo "$(date +%T) $arm checked"
done
