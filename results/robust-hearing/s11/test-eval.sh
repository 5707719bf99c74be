#!/bin/bash
# Session 11: the chosen model (runs/s11/NAME-default) on a test split, once, for the record; appended to the ledger.
#   [LIMIT=N] test-eval.sh NAME SPLIT [THREADS]   -> results/robust-hearing/s11/NAME-SPLIT/results.{json,md}
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${3:-1}
D=runs/s11/$1-default
.venv/bin/textpro eval --bench runs/mini/data --split $2 --model $D --text-model $D/teacher \
  --out runs/s11/eval-$1-$2 --ledger results/ledger.jsonl ${LIMIT:+--limit $LIMIT} > runs/s11/eval-$1-$2.log 2>&1
mkdir -p results/robust-hearing/s11/$1-$2
cp runs/s11/eval-$1-$2/results.{json,md} results/robust-hearing/s11/$1-$2/
