#!/bin/bash
# textpro eval of a session-9 model (runs/s9/NAME-default, exported like the embedded default) on one split;
# test splits go to the ledger.   [LIMIT=N] eval.sh NAME SPLIT [THREADS]
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${3:-1}
D=runs/s9/$1-default
ledger=(); [[ $2 == test* ]] && ledger=(--ledger results/ledger.jsonl)
.venv/bin/textpro eval --bench runs/mini/data --split $2 --model $D --text-model $D/teacher \
  --out runs/s9/eval-$1/$2 "${ledger[@]}" ${LIMIT:+--limit $LIMIT} > runs/s9/eval-$1-$2.log 2>&1
mkdir -p results/robust-hearing/s9/$1-$2
cp runs/s9/eval-$1/$2/results.{json,md} results/robust-hearing/s9/$1-$2/
