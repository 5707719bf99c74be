#!/bin/bash
# Session 10's hearing check of a model on the 360-clip dev_unseen (runs/s9/feat/bigdev_default, s7/bigdev.sh), asked
# (1) with each clip's own dev phrasing and (2) with a phrasing drawn from the held-out probe pool (probe-phrasings.yaml).
#   check.sh MODEL NAME [THREADS]   -> results/robust-hearing/s10/hc-NAME{,-probe}.txt
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${3:-1}
out=results/robust-hearing/s10
for probe in "" probe; do
  .venv/bin/python benchmarks/hearing_check.py "$1" runs/s9/feat/bigdev_default --threads ${3:-1} \
    ${probe:+--phrasings $out/probe-phrasings.yaml} 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $out/hc-$2${probe:+-probe}.txt
done
