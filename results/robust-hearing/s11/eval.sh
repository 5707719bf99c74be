#!/bin/bash
# Session 11: `textpro eval` of a model exported by check.sh ($R/NAME-default) on one split of the mini world:
# dev_unseen (the recipe's: 30 clips per paralinguistic task, 60 spoken questions, 30 requests), dev (its own voices:
# accent and style too), or a test split, once, for the record: test splits go to the ledger.
#   [LIMIT=N] [BENCH=DIR] eval.sh NAME SPLIT [THREADS]   -> $S/TAG-SPLIT[-BENCH's name]/results.{json,md}
#   (TAG: NAME, / as -; BENCH: another generated benchmark than runs/mini/data)
set -e
cd "$(dirname "$0")/../../.."
R=${RUNS:-runs/s11} S=${RESULTS:-results/robust-hearing/s11}  # another session's runs and results: RUNS=… RESULTS=…
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${3:-1}
D=$R/$1-default
tag=${1//\//-}
out=$tag-$2${BENCH:+-$(basename $BENCH)}
ledger=(); [[ $2 == test* ]] && ledger=(--ledger results/ledger.jsonl)
.venv/bin/textpro eval --bench ${BENCH:-runs/mini/data} --split $2 --model $D --text-model $D/teacher \
  --out $R/eval-$out "${ledger[@]}" ${LIMIT:+--limit $LIMIT} > $R/eval-$out.log 2>&1
mkdir -p $S/$out
cp $R/eval-$out/results.{json,md} $S/$out/
