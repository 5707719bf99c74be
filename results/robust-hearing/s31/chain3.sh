#!/bin/bash
# Rule 17 (information): after the fresh-clone tests, gpl-s10's 300 questions, then gpl-s9 and its quick checks.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
while ! grep -q "^rc=" /tmp/fresh-test.log 2>/dev/null; do sleep 20; done
[ -e results/robust-hearing/s31/gpl-s10-dev_unseen-bigsem/results.json ] || RUNS=runs/s31 \
  RESULTS=results/robust-hearing/s31 BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh gpl-s10 dev_unseen 2
echo "$(date +%T) gpl-s10 bigsem done"
SESSION=s31 results/robust-hearing/s28/quick.sh gpl-s9
