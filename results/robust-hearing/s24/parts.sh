#!/bin/bash
# Session 24: the adapter-parts diagnostic (adapter_parts.py) on a model: for each part removed, the 53 dev_unseen
# requests (s15/request_diag.py) and own-phrasing hearing on the 360-clip dev_unseen (hearing_check.py).
#   parts.sh MODEL_DIR NAME PART...   -> results/robust-hearing/s24/{requests,hc}-NAME-noPART.txt
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
S=results/robust-hearing/s24 R=runs/s24 M=$1 N=$2
shift 2
for part in "$@"; do
  m=$R/$N-no$part
  .venv/bin/python $S/adapter_parts.py $M $m $part > $R/$N-no$part.json || exit 1
  [ -s $S/requests-$N-no$part.txt ] || .venv/bin/python results/robust-hearing/s15/request_diag.py $m runs/s15/bigreq \
    dev_unseen --jsonl $R/requests-$N-no$part.jsonl > $S/requests-$N-no$part.txt 2> $R/requests-$N-no$part.log
  [ -s $S/hcparts-$N-no$part.txt ] || .venv/bin/python benchmarks/hearing_check.py $m runs/s9/feat/bigdev_default \
    --threads 2 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $S/hcparts-$N-no$part.txt
  echo "$(date +%T) $N no$part checked"
done
