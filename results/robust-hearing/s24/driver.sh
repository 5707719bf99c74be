#!/bin/bash
# Session 24: train (train.sh) and check each arm, one job at a time (two side by side are 5-8x slower on 2 cores):
# accent on the 210 dev clips (session 19's set) and the projected-token probe (session 21's), own and probe phrasings
# on the 360-clip dev_unseen, the 53 dev_unseen requests (s15/request_diag.py), the 300-question dev_unseen.
#   [CONTENT_ONLY=1] driver.sh ARM...   -> runs/s24/ARM-default, results/robust-hearing/s24/{accent,hc,requests}-ARM*.txt,
#   ...   (CONTENT_ONLY: without the accent and projected-token checks, as dose.sh)
#   RUNS=runs/sN RESULTS=results/robust-hearing/sN driver.sh ARM...: another session's arms, trained by its train.sh
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
S=${RESULTS:-results/robust-hearing/s24} R=${RUNS:-runs/s24}
for arm in "$@"; do
  $S/train.sh $arm 2 || exit 1
  m=$R/$arm-default
  [ -n "$CONTENT_ONLY" ] || [ -s $S/accent-$arm.txt ] || .venv/bin/python benchmarks/hearing_check.py $m runs/s19/feat/dev_accent210 \
    --tasks accent --threads 2 --dump $R/accent-$arm.jsonl 2>&1 | grep -E "^accent|  by " > $S/accent-$arm.txt
  [ -n "$CONTENT_ONLY" ] || [ -s $S/projected_probe-$arm.txt ] || .venv/bin/python results/robust-hearing/s21/projected_probe.py \
    runs/s21/bk-s7-default runs/s22/hacc85-s7-default $m > $S/projected_probe-$arm.txt 2> $R/projected_probe-$arm.log
  for probe in "" probe; do
    f=$S/hc-$arm${probe:+-probe}.txt
    [ -s $f ] || .venv/bin/python benchmarks/hearing_check.py $m runs/s9/feat/bigdev_default --threads 2 \
      ${probe:+--phrasings results/robust-hearing/s10/probe-phrasings.yaml} 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $f
  done
  echo "$(date +%T) $arm hearing checked"
  [ -s $S/requests-$arm.txt ] || .venv/bin/python results/robust-hearing/s15/request_diag.py $m runs/s15/bigreq \
    dev_unseen --jsonl $R/requests-$arm.jsonl > $S/requests-$arm.txt 2> $R/requests-$arm.log
  [ -e $S/$arm-dev_unseen-bigsem/results.json ] || RUNS=$R RESULTS=$S BENCH=runs/s12/bigsem \
    results/robust-hearing/s11/eval.sh $arm dev_unseen 2
  echo "$(date +%T) $arm checked"
done
echo "$(date +%T) ALL DONE $*"
