#!/bin/bash
# Session 47 (rule 50): the embedded default with the gain rule 50 chose (its textpro_config.json's prosody_gain,
# committed first) evaluated on a test split for the record only (ledger line). The mini world's test splits rebuilt by
# the recipe's data step (runs/mini/data; session 46 checked that the generator gives session 32's items).
#   results/robust-hearing/s47/record.sh SPLIT   -> results/robust-hearing/s47/default-SPLIT/results.{json,md}
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
out=runs/s47/eval-default-$1
D=src/textpro/assets/default
/usr/bin/time -v .venv/bin/textpro eval --bench runs/mini/data --split $1 --model $D --text-model $D/teacher \
  --out $out --ledger results/ledger.jsonl > $out.log 2>&1
mkdir -p results/robust-hearing/s47/default-$1
cp $out/results.{json,md} results/robust-hearing/s47/default-$1/
