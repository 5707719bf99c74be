#!/bin/bash
# Session 46: the reference widened to three content-free changes; the default's and mini-cas's dev_unseen evaluations
# and the default's two test records read again from their caches (only the two new changes are asked).
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
for x in "default src/textpro/assets/default" "minicas runs/mini-cas/default"; do
  set -- $x
  .venv/bin/textpro eval --bench runs/s12/bigsem --split dev_unseen --model $2 --text-model $2/teacher \
    --out runs/s46/eval-$1-dev_unseen-bigsem > runs/s46/eval-$1-rerun.log 2>&1
  mkdir -p results/robust-hearing/s46/$1-dev_unseen-bigsem
  cp runs/s46/eval-$1-dev_unseen-bigsem/results.{json,md} results/robust-hearing/s46/$1-dev_unseen-bigsem/
  echo "$(date +%T) $1 dev_unseen"
done
results/robust-hearing/s46/record.sh test_unseen; echo "$(date +%T) test_unseen"
results/robust-hearing/s46/record.sh test; echo "$(date +%T) test"
