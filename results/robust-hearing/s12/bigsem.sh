#!/bin/bash
# Session 12: a 300-question dev_unseen (flite voices, dev question templates) for choosing on content: the recipe's
# 60 questions cannot resolve a 3-point difference. Seven minutes on one thread.   -> runs/s12/bigsem
cd "$(dirname "$0")/../../.."
HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/textpro data make-mini --out runs/s12/bigsem --seed 0 --hours 0.05 \
  --workers 1 --no-robust --dev-unseen-semantic 300 --dev-unseen-per-task 1 --dev-unseen-requests 1 \
  --test-unseen-semantic 1 --test-unseen-per-task 1 --test-unseen-requests 1 --quiet
