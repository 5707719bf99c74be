#!/bin/bash
# Session 30, rule 3 for a gated lead ARM: (a) the 300 dev_unseen questions, (b) the replicate rARM's quick checks,
# (c) the 62 recorded clips; all with the gate attached (PYTHONPATH=hook).   chain.sh ARM
cd "$(dirname "$0")/../../.."
export PYTHONPATH=results/robust-hearing/s30/hook HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
S=results/robust-hearing/s30 R=runs/s30 arm=$1
[ -e $S/$arm-dev_unseen-bigsem/results.json ] || RUNS=$R RESULTS=$S BENCH=runs/s12/bigsem \
  results/robust-hearing/s11/eval.sh $arm dev_unseen 2
echo "$(date +%T) $arm bigsem done"
SESSION=s30 results/robust-hearing/s28/quick.sh r$arm
[ -s $S/recorded-$arm.md ] || .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded runs/s13/recorded-62.jsonl \
  --model $R/$arm-default --answers $R/recorded-$arm.jsonl --report $S/recorded-$arm.md --threads 2 > $R/recorded-$arm.log 2>&1
echo "$(date +%T) $arm recorded done"
