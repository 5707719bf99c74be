#!/bin/bash
# Session 37 (a diagnostic after rule 25's seed 1, no choice rests on it): the dev_unseen hearing check, per flite
# voice, at the saved checkpoints of both 590-step hearing phases (steps 320-590) and of the 400-step ones (80-400).
#   -> runs/s37/dumps/ARM-step-N.jsonl, results/robust-hearing/s37/checkpoints.txt
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
for run in runs/s36/h590-s0 runs/s37/h590-s1 runs/s34/h400-s0 runs/s34/h400-s1; do
  for checkpoint in $run/checkpoints/step-*; do
    dump=runs/s37/dumps/$(basename $run)-$(basename $checkpoint).jsonl
    [ -s $dump ] || .venv/bin/python benchmarks/hearing_check.py $checkpoint runs/s9/feat/bigdev_recipe --dump $dump \
      > /dev/null 2>&1 || { echo "failed: $checkpoint"; exit 1; }
  done
done
.venv/bin/python results/robust-hearing/s37/per_voice.py runs/s37/dumps/h*-step-*.jsonl runs/s37/dumps/h*-default.jsonl \
  > results/robust-hearing/s37/checkpoints.txt
echo "$(date +%T) done"
