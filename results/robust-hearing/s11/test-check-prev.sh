#!/bin/bash
# Session 11, after the choice and the test record: does the previous default also answer test_unseen's open gender
# question "How would you describe the speaker?" with a mood? The fast hearing check of both defaults on every
# test_unseen gender/pitch/rate clip (s9/test-check.sh's features), every answer dumped.
#   test-check-prev.sh [THREADS]   -> s11/hc-test_unseen-{prev,new}.txt, runs/s11/dump-test_unseen-{prev,new}.jsonl
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${1:-2}
results/robust-hearing/s9/test-unseen-features.sh
P=runs/s11/default-s9-default  # the previous default, as main had it before this session's (also s11's dev eval of it)
[ -d $P ] || { mkdir -p $P; git archive 2fb0117 src/textpro/assets/default | tar -x -C $P --strip-components=4; }
for pair in prev=$P new=src/textpro/assets/default; do
  .venv/bin/python benchmarks/hearing_check.py ${pair#*=} runs/s9/feat/test_unseen_para --threads ${1:-2} \
    --dump runs/s11/dump-test_unseen-${pair%%=*}.jsonl 2>&1 \
    | grep -E "^(gender|pitch|rate)|  by " > results/robust-hearing/s11/hc-test_unseen-${pair%%=*}.txt
done
