#!/bin/bash
# Session 30, rules 7-8 with src's gate: each ARM's quick checks, then the 300 dev questions. Gated arms need no
# harness at check time (src loads the gate); gtn-* arms train with it (train.sh sets PYTHONPATH for that).
#   chain3.sh ARM...
cd "$(dirname "$0")/../../.."
while pgrep -f "fit_gate.py" > /dev/null; do sleep 10; done
export HF_HUB_OFFLINE=1
for arm in "$@"; do
  SESSION=s30 results/robust-hearing/s28/quick.sh $arm || exit 1
  [ -e results/robust-hearing/s30/$arm-dev_unseen-bigsem/results.json ] || RUNS=runs/s30 \
    RESULTS=results/robust-hearing/s30 BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh $arm dev_unseen 2
  echo "$(date +%T) $arm bigsem done"
done
