#!/bin/bash
# Session 24: the dose arms (train.sh opw65-s7, ctl65-s7) with driver.sh's content and hearing checks only (no
# accent, no projected probe: the session's time).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
S=results/robust-hearing/s24 R=runs/s24
for arm in "$@"; do
  $S/train.sh $arm 2 || exit 1
  m=$R/$arm-default
  [ -s $S/requests-$arm.txt ] || .venv/bin/python results/robust-hearing/s15/request_diag.py $m runs/s15/bigreq \
    dev_unseen --jsonl $R/requests-$arm.jsonl > $S/requests-$arm.txt 2> $R/requests-$arm.log
  for probe in "" probe; do
    f=$S/hc-$arm${probe:+-probe}.txt
    [ -s $f ] || .venv/bin/python benchmarks/hearing_check.py $m runs/s9/feat/bigdev_default --threads 2 \
      ${probe:+--phrasings results/robust-hearing/s10/probe-phrasings.yaml} 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $f
  done
  [ -e $S/$arm-dev_unseen-bigsem/results.json ] || RUNS=$R RESULTS=$S BENCH=runs/s12/bigsem \
    results/robust-hearing/s11/eval.sh $arm dev_unseen 2
  echo "$(date +%T) $arm checked"
done
