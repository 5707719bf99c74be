#!/bin/bash
# Session 30, rule 7: after chain.sh, train a gated arm and check it: quick checks, then the 300 dev questions.
#   chain2.sh ARM...
cd "$(dirname "$0")/../../.."
while pgrep -f "s30/chain.sh" > /dev/null; do sleep 15; done
export PYTHONPATH=results/robust-hearing/s30/hook HF_HUB_OFFLINE=1
for arm in "$@"; do
  SESSION=s30 results/robust-hearing/s28/quick.sh $arm || exit 1
  [ -e results/robust-hearing/s30/$arm-dev_unseen-bigsem/results.json ] || RUNS=runs/s30 \
    RESULTS=results/robust-hearing/s30 BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh $arm dev_unseen 2
  echo "$(date +%T) $arm bigsem done"
done
