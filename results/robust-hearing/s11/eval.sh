#!/bin/bash
# textpro eval of a session-11 model (runs/s11/sSEED/STEP-default, exported by check.sh) on the recipe's dev_unseen
# (30 clips per paralinguistic task, 60 spoken questions, 30 requests): content beside hearing.
#   eval.sh SEED STEP [THREADS]   -> results/robust-hearing/s11/sSEED-STEP-dev_unseen/results.{json,md}
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${3:-1}
D=runs/s11/s$1/$2-default
.venv/bin/textpro eval --bench runs/mini/data --split dev_unseen --model $D --text-model $D/teacher \
  --out runs/s11/eval-s$1-$2 > runs/s11/eval-s$1-$2.log 2>&1
mkdir -p results/robust-hearing/s11/s$1-$2-dev_unseen
cp runs/s11/eval-s$1-$2/results.{json,md} results/robust-hearing/s11/s$1-$2-dev_unseen/
