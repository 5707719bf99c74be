#!/bin/bash
# Session 46: the embedded default's test records again, for the record only (nothing is chosen on them), so that
# its agreement is read beside the new reference (the text LLM's self-agreement under a trailing space) and its
# 95% interval. The mini world's test splits from session 42's `make mini` (runs/mini-cas/data: the same generator
# as session 32's runs/mini/data; the text side's numbers below show whether the items are the same).
#   results/robust-hearing/s46/record.sh SPLIT   -> results/robust-hearing/s46/default-SPLIT/results.{json,md}
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
out=runs/s46/eval-default-$1
D=src/textpro/assets/default
/usr/bin/time -v .venv/bin/textpro eval --bench runs/mini-cas/data --split $1 --model $D --text-model $D/teacher \
  --out $out --ledger results/ledger.jsonl > $out.log 2>&1
mkdir -p results/robust-hearing/s46/default-$1
cp $out/results.{json,md} results/robust-hearing/s46/default-$1/
