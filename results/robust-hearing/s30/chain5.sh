#!/bin/bash
# Session 30, rule 11: soupG (gtn-s7 + gn-s8 averaged): quick checks, then the 300 questions; information only.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
SESSION=s30 results/robust-hearing/s28/quick.sh soupG || exit 1
[ -e results/robust-hearing/s30/soupG-dev_unseen-bigsem/results.json ] || RUNS=runs/s30 \
  RESULTS=results/robust-hearing/s30 BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh soupG dev_unseen 2
echo "$(date +%T) soupG bigsem done"
