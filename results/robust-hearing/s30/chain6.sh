#!/bin/bash
# Rule 12 (for session 31): gn-s9, gn-s10 trained and quick-checked, then soupGr's quick checks and 300 questions.
# Resumable: every step is skipped once its output exists.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
SESSION=s30 results/robust-hearing/s28/quick.sh gn-s9 gn-s10 soupGr || exit 1
[ -e results/robust-hearing/s30/soupGr-dev_unseen-bigsem/results.json ] || RUNS=runs/s30 \
  RESULTS=results/robust-hearing/s30 BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh soupGr dev_unseen 2
echo "$(date +%T) soupGr bigsem done"
