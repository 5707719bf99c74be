#!/bin/bash
# Qwen recipe's exported SLM on test_unseen, the same 50 items per task as the SmolLM2 default (runs/cmp/smollm2-*)
cd /work/main
OMP_NUM_THREADS=1 .venv/bin/textpro eval --bench runs/mini/data --split test_unseen --model runs/mini-qwen/default \
  --text-model runs/mini-qwen/default/teacher --limit 40 --out runs/cmp/qwen-test_unseen --ledger results/ledger.jsonl
