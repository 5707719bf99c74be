#!/bin/bash
# The default's own hearing phase (session 5 seed 1, old yes/no answers) continued by stage 2 at paralinguistic share
# 0.8 (stage 2's rows answer yes/no label first, as the recipe now does), then the fast check on the 360-clip dev.
cd /work/main
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${THREADS:-2}
.venv/bin/textpro train slm --stage 2 --config runs/s7/ab/s1-stage2-ratio08.yaml --resume
OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hearing_check.py runs/s7/ab/s1-stage2-ratio08/model runs/s7/feat/bigdev_mini --threads 1 2>&1 | grep -v "Loading\|Warning\|warnings.warn" > runs/s7/hc-s1-ratio08.txt
