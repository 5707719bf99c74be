#!/bin/bash
# Session 25: train an arm (train.sh) and run session 24's dev checks on it, every model restricted (restricted.py):
# the 53 dev_unseen requests, own and held-out phrasings on the 360-clip dev_unseen, the 300-question dev_unseen.
#   driver.sh ARM...   (a model name with no train.sh arm, e.g. hacc85-s7 read from runs/s22: checks only)
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
S=results/robust-hearing/s25 R=runs/s25
run=(.venv/bin/python $S/restricted.py)
for arm in "$@"; do
  m=$R/$arm-default
  [ -e $m ] || $S/train.sh $arm 2 || exit 1
  [ -s $S/requests-$arm.txt ] || "${run[@]}" results/robust-hearing/s15/request_diag.py $m runs/s15/bigreq \
    dev_unseen --jsonl $R/requests-$arm.jsonl > $S/requests-$arm.txt 2> $R/requests-$arm.log
  for probe in "" probe; do
    f=$S/hc-$arm${probe:+-probe}.txt
    [ -s $f ] || "${run[@]}" benchmarks/hearing_check.py $m runs/s9/feat/bigdev_default --threads 2 \
      ${probe:+--phrasings results/robust-hearing/s10/probe-phrasings.yaml} 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $f
  done
  out=$arm-dev_unseen-bigsem
  [ -e $S/$out/results.json ] || { "${run[@]}" .venv/bin/textpro eval --bench runs/s12/bigsem --split dev_unseen \
    --model $m --text-model $m/teacher --out $R/eval-$out > $R/eval-$out.log 2>&1 &&
    mkdir -p $S/$out && cp $R/eval-$out/results.{json,md} $S/$out/; }
  echo "$(date +%T) $arm checked"
done
