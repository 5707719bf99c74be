#!/bin/bash
# The SmolLM2 embedded default on the same items as the Qwen recipe's eval (limit 40 per task, same data)
cd /work/main
for split in test_unseen; do
  OMP_NUM_THREADS=1 .venv/bin/textpro eval --bench runs/mini/data --split $split --model src/textpro/assets/default \
    --text-model src/textpro/assets/default/teacher --limit 40 --out runs/cmp/smollm2-$split --ledger results/ledger.jsonl
done
