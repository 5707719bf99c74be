#!/bin/bash
# Session 13, fourth lever: learned_noise 1.0 (Gaussian noise of one training std on every standardised learned
# dimension, every row, training only). ln-s6 = the default + 50 steps of s11/cont-yn.yaml at seed 6 with it:
#   OMP_NUM_THREADS=2 textpro train slm --stage 2 --config results/robust-hearing/s11/cont-yn.yaml \
#     --output runs/s13/ln-s6 --resume --set train.seed=6 --set train.max_steps=50 --set learned_noise=1.0
# then its hearing checks and the recorded-speech set (the first 62 clips).   -> runs/driver-s13e.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s13 RESULTS=results/robust-hearing/s13 HF_HUB_OFFLINE=1
S=results/robust-hearing/s13
while pgrep -f "output runs/s13/ln-s6 " > /dev/null; do sleep 20; done; echo "$(date +%T) ln-s6 trained"
[ -e $S/hc-ln-s6-probe.txt ] || results/robust-hearing/s11/check.sh ln-s6 2 > runs/s13/check-ln-s6.log 2>&1
[ -e $S/hc-ln-s6-open.txt ] || .venv/bin/python benchmarks/hearing_check.py runs/s13/ln-s6-default \
  runs/s9/feat/bigdev_default --threads 1 --phrasings results/robust-hearing/s12/open-probe.yaml \
  --dump runs/s13/open-ln-s6.jsonl 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $S/hc-ln-s6-open.txt &
[ -e $S/recorded-ln-s6.md ] || OMP_NUM_THREADS=1 .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
  runs/s13/recorded-62.jsonl --model runs/s13/ln-s6-default --answers runs/s13/recorded-ln-s6.jsonl \
  --report $S/recorded-ln-s6.md > /dev/null 2>&1
wait; echo "$(date +%T) ALL DONE"
