#!/bin/bash
# Rule 18 (information): soupPl = gpl-s9 + gpl-s10, quick checks, then its 300 questions. Resumable.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
SESSION=s31 results/robust-hearing/s28/quick.sh soupPl || exit 1
[ -e results/robust-hearing/s31/soupPl-dev_unseen-bigsem/results.json ] || RUNS=runs/s31 \
  RESULTS=results/robust-hearing/s31 BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh soupPl dev_unseen 2
echo "$(date +%T) soupPl bigsem done"
