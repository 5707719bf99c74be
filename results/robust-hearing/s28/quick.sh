#!/bin/bash
# Session 28: s24/driver.sh's hearing and requests checks without the 300 dev questions (those come later, where an
# arm reads the requests at a lead's level), one arm after another; trains what $S/train.sh must first.
#   [SESSION=sN] quick.sh ARM...   -> results/robust-hearing/sN/{hc,hc-probe,requests}-ARM.txt (default s28)
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
S=results/robust-hearing/${SESSION:-s28} R=runs/${SESSION:-s28}
for arm in "$@"; do
  $S/train.sh $arm 2 || exit 1
  m=$R/$arm-default
  for probe in "" probe; do
    f=$S/hc-$arm${probe:+-probe}.txt
    [ -s $f ] || .venv/bin/python benchmarks/hearing_check.py $m runs/s9/feat/bigdev_default --threads 2 \
      ${probe:+--phrasings results/robust-hearing/s10/probe-phrasings.yaml} 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $f
  done
  [ -s $S/requests-$arm.txt ] || .venv/bin/python results/robust-hearing/s15/request_diag.py $m runs/s15/bigreq \
    dev_unseen --jsonl $R/requests-$arm.jsonl > $S/requests-$arm.txt 2> $R/requests-$arm.log
  echo "$(date +%T) $arm quick-checked"
done
echo "$(date +%T) ALL DONE $*"
