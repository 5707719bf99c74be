#!/bin/bash
# Rule 15: gp-s9, gp-s10, soupP quick checks, then soupP's 300 questions. Resumable.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
SESSION=s31 results/robust-hearing/s28/quick.sh gp-s9 gp-s10 soupP || exit 1
[ -e results/robust-hearing/s31/soupP-dev_unseen-bigsem/results.json ] || RUNS=runs/s31 \
  RESULTS=results/robust-hearing/s31 BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh soupP dev_unseen 2
echo "$(date +%T) soupP bigsem done"
