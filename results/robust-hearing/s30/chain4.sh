#!/bin/bash
# Session 30, rule 9: after chain3.sh, gn-s8 (src's neutral_content, no harness): train, quick checks, 300 questions.
cd "$(dirname "$0")/../../.."
while pgrep -f "s30/chain3.sh" > /dev/null; do sleep 10; done
export HF_HUB_OFFLINE=1
SESSION=s30 results/robust-hearing/s28/quick.sh gn-s8 || exit 1
[ -e results/robust-hearing/s30/gn-s8-dev_unseen-bigsem/results.json ] || RUNS=runs/s30 \
  RESULTS=results/robust-hearing/s30 BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh gn-s8 dev_unseen 2
echo "$(date +%T) gn-s8 bigsem done"
