#!/bin/bash
# Session 15: every dev_unseen spoken request (53, flite voices) for choosing on open answers: the recipe's dev_unseen
# holds 30.   -> runs/s15/bigreq (dev_unseen split; the other splits hold one item per task)
cd "$(dirname "$0")/../../.."
HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/textpro data make-mini --out runs/s15/bigreq --seed 0 --hours 0.05 \
  --workers 1 --no-robust --dev-unseen-semantic 1 --dev-unseen-per-task 1 --dev-unseen-requests 53 \
  --test-unseen-semantic 1 --test-unseen-per-task 1 --test-unseen-requests 1 --quiet
