#!/bin/bash
# The SmolLM2 embedded default on test_unseen: the first 40 items per task, as qwen-eval.sh scores the Qwen recipe's SLM
cd "$(dirname "$0")/../.." || exit 1
OMP_NUM_THREADS=1 .venv/bin/textpro eval --bench runs/mini/data --split test_unseen --model src/textpro/assets/default \
  --text-model src/textpro/assets/default/teacher --limit 40 --out runs/cmp/smollm2-test_unseen --ledger results/ledger.jsonl
