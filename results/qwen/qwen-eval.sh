#!/bin/bash
# The Qwen recipe's exported SLM on test_unseen: the first 40 items per task, as smol-eval.sh scores the SmolLM2 default
cd "$(dirname "$0")/../.." || exit 1
OMP_NUM_THREADS=1 .venv/bin/textpro eval --bench runs/mini/data --split test_unseen --model runs/mini-qwen/default \
  --text-model runs/mini-qwen/default/teacher --limit 40 --out runs/cmp/qwen-test_unseen --ledger results/ledger.jsonl
