#!/bin/bash
# After lf1's hearing phase: stage 2 at paralinguistic ratio 0.8 (the s7 variant), export, then the fast check.
cd /work/main
export HF_HUB_OFFLINE=1
while [ ! -f runs/s7/lf1/done/slm-hearing.json ]; do sleep 15; done
.venv/bin/textpro recipe mini --config runs/s7/recipe-lf1.yaml --out runs/s7/lf1 --from slm-stage2 --until export --threads-alone 2
OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hearing_check.py runs/s7/lf1/slm-hearing/model runs/s7/feat/bigdev_mini --threads 1 2>&1 | grep -v "Loading\|Warning\|warnings.warn" > runs/s7/hc-lf1-hearing.txt &
OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hearing_check.py runs/s7/lf1/slm-stage2/model runs/s7/feat/bigdev_mini --threads 1 2>&1 | grep -v "Loading\|Warning\|warnings.warn" > runs/s7/hc-lf1-final.txt
wait
