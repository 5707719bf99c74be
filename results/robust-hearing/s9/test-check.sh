#!/bin/bash
# After the choice, for the record: the fast hearing check of the session-7 model and the new default on every
# test_unseen paralinguistic clip (450: 150 per task), the same clips and phrasings for both (textpro eval's numbers;
# session 4 checked that the two agree).
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1
results/robust-hearing/s9/test-unseen-features.sh
mkdir -p runs/s9/s7-default
git archive b2bc6fe src/textpro/assets/default | tar -x -C runs/s9/s7-default --strip-components=4
for pair in s7=runs/s9/s7-default new=src/textpro/assets/default; do
  .venv/bin/python benchmarks/hearing_check.py ${pair#*=} runs/s9/feat/test_unseen_para --threads 1 2>&1 \
    | grep -E "^(gender|pitch|rate)|  by " > results/robust-hearing/s9/hc-test_unseen-${pair%%=*}.txt
done
