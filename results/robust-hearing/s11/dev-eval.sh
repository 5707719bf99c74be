#!/bin/bash
# Session 11: `textpro eval` of an exported model (runs/s11/NAME-default) on the mini world's own `dev` split (its
# espeak and piper voices, dev phrasings: accent and style beside gender, pitch, rate and content).
#   dev-eval.sh NAME [THREADS]   -> results/robust-hearing/s11/NAME-dev/results.{json,md}
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${2:-1}
D=runs/s11/$1-default
.venv/bin/textpro eval --bench runs/mini/data --split dev --model $D --text-model $D/teacher \
  --out runs/s11/eval-$1-dev > runs/s11/eval-$1-dev.log 2>&1
mkdir -p results/robust-hearing/s11/$1-dev
cp runs/s11/eval-$1-dev/results.{json,md} results/robust-hearing/s11/$1-dev/
