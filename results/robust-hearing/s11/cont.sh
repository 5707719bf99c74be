#!/bin/bash
# Session 11: a candidate default, session 10's cont-yn (the embedded default + 50 steps of its own stage 2 with
# yes_no_own_share null) at one seed; then check.sh (exported like the default, session 10's hearing check) and
# eval.sh on the recipe's dev_unseen (content beside hearing).
#   cont.sh SEED [THREADS]   -> runs/s11/cont-yn-sSEED{,-default}, s11/hc-cont-yn-sSEED{,-probe}.txt,
#                               s11/cont-yn-sSEED-dev_unseen/results.{json,md}; resumable
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${2:-1}
S=results/robust-hearing/s11
M=runs/s11/cont-yn-s$1
[ -e $M/model ] || .venv/bin/textpro train slm --stage 2 --config $S/cont-yn.yaml --output $M --resume \
  --set train.seed=$1 --set train.max_steps=50 > $M.log 2>&1
[ -e $S/hc-cont-yn-s$1-probe.txt ] || $S/check.sh cont-yn-s$1 ${2:-1}
$S/eval.sh cont-yn-s$1 dev_unseen ${2:-1}
