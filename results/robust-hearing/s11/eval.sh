#!/bin/bash
# Session 11: `textpro eval` of a model exported by check.sh (runs/s11/NAME-default) on one split of the mini world:
# dev_unseen (the recipe's: 30 clips per paralinguistic task, 60 spoken questions, 30 requests), dev (its own voices:
# accent and style too), or a test split, once, for the record: test splits go to the ledger.
#   [LIMIT=N] eval.sh NAME SPLIT [THREADS]   -> results/robust-hearing/s11/TAG-SPLIT/results.{json,md} (TAG: NAME, / as -)
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${3:-1}
D=runs/s11/$1-default
tag=${1//\//-}
ledger=(); [[ $2 == test* ]] && ledger=(--ledger results/ledger.jsonl)
.venv/bin/textpro eval --bench runs/mini/data --split $2 --model $D --text-model $D/teacher \
  --out runs/s11/eval-$tag-$2 "${ledger[@]}" ${LIMIT:+--limit $LIMIT} > runs/s11/eval-$tag-$2.log 2>&1
mkdir -p results/robust-hearing/s11/$tag-$2
cp runs/s11/eval-$tag-$2/results.{json,md} results/robust-hearing/s11/$tag-$2/
