#!/bin/bash
# Baselines on the 360-clip dev_unseen: the default (session 5 seed 1, runs/mini WhisperPro) and r6 (label first).
cd /work/main
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1
while pgrep -f "bigdev.sh" > /dev/null; do sleep 10; done
[ -f runs/s7/feat/bigdev_mini/index.jsonl ] || .venv/bin/textpro featurize runs/s7/data/dev_unseen_para.jsonl --whisperpro runs/mini/whisperpro/model --out runs/s7/feat/bigdev_mini
check() { echo "=== $1 on $2"; .venv/bin/python benchmarks/hearing_check.py $1 $2 --threads 1; }
check runs/r5/seed1/slm-stage2/model runs/s7/feat/bigdev_mini
check runs/r6/mini/slm-stage2/model runs/s7/feat/bigdev_r6
check runs/r6/mini/slm-hearing/model runs/s7/feat/bigdev_r6
check runs/r5/seed1/slm-hearing/model runs/s7/feat/bigdev_mini
check runs/r6/ab/stage2-lr2e-4/model runs/s7/feat/bigdev_r6
