#!/bin/bash
# Session 13: content invariance, paired at seed 6. Every arm is the embedded default + 50 steps of its own stage 2
# (s11/cont-yn.yaml, seed 6), the arm's settings by --set: ctl-s6 as the default was made; sw1-s6 with
# prosody_swap 1.0 (every distillation row reads another clip's vectors, where the default has 0.5). Then, side by
# side on one thread each: the hearing check (own dev, probe and open-only phrasings on the 360-clip dev_unseen),
# `textpro eval` on the 300-question dev_unseen (s12/bigsem.sh), dev_unseen and dev. Resumable.
#   driver.sh ARM ARM   -> runs/driver-s13.log, results/robust-hearing/s13/
cd "$(dirname "$0")/../../.."
export RUNS=runs/s13 RESULTS=results/robust-hearing/s13 HF_HUB_OFFLINE=1
S=results/robust-hearing/s13
settings() { case $1 in sw1-*) echo "--set prosody_swap=1.0" ;; esac; }
train() {  # NAME
  [ -e runs/s13/$1/model ] || OMP_NUM_THREADS=1 .venv/bin/textpro train slm --stage 2 \
    --config results/robust-hearing/s11/cont-yn.yaml --output runs/s13/$1 --resume --set train.seed=6 \
    --set train.max_steps=50 $(settings $1) >> runs/s13/$1.log 2>&1
}
for m in "$@"; do train $m & done; wait; echo "$(date +%T) trained"
for m in "$@"; do
  ( [ -e $S/hc-$m-probe.txt ] || results/robust-hearing/s11/check.sh $m 1 > runs/s13/check-$m.log 2>&1
    [ -e $S/hc-$m-open.txt ] || .venv/bin/python benchmarks/hearing_check.py runs/s13/$m-default \
      runs/s9/feat/bigdev_default --threads 1 --phrasings results/robust-hearing/s12/open-probe.yaml \
      --dump runs/s13/open-$m.jsonl 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $S/hc-$m-open.txt ) &
done; wait; echo "$(date +%T) checks done"
for m in "$@"; do
  [ -e $S/$m-dev_unseen-bigsem/results.md ] || BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh $m dev_unseen 1 &
done; wait; echo "$(date +%T) bigsem done"
for split in dev_unseen dev; do
  for m in "$@"; do
    [ -e $S/$m-$split/results.md ] || results/robust-hearing/s11/eval.sh $m $split 1 &
  done; wait; echo "$(date +%T) $split done"
done; echo "$(date +%T) ALL DONE"
