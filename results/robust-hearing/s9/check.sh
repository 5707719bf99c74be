#!/bin/bash
# The fast hearing check of a model (or a training checkpoint) on the 360-clip dev_unseen (session 7's, rebuilt by
# s7/bigdev.sh into runs/s9 and featurized with the embedded default's WhisperPro), as heard and with the learned
# vector at its training mean.   check.sh MODEL NAME [THREADS]
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${3:-1}
out=results/robust-hearing/s9
for branch in "" learned; do
  .venv/bin/python benchmarks/hearing_check.py "$1" runs/s9/feat/bigdev_default --threads ${3:-1} \
    ${branch:+--branch $branch} 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $out/hc-$2${branch:+-${branch}mean}.txt
done
