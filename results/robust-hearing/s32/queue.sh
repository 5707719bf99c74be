#!/bin/bash
# Session 32's queue for a candidate rule of s30/decision.md (19: chain.sh, 20: chain2.sh): each seed trained and
# quick-checked in turn (the next is not trained once one misses its per-seed lines), then the soup's quick checks
# and 300 dev questions. Resumable.
#   queue.sh RULE SOUP SEED...
cd "$(dirname "$0")/../../.."
S=results/robust-hearing/s32 rule=$1 soup=$2
shift 2
for seed in "$@"; do
  SESSION=s32 results/robust-hearing/s28/quick.sh $seed || exit 1
  .venv/bin/python $S/candidate.py seed $seed || { echo "$(date +%T) $seed misses its per-seed lines: $soup is not a candidate"; exit 1; }
done
$S/driver.sh $soup
echo "$(date +%T) CHAIN DONE"
