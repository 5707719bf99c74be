#!/bin/bash
# Session 11: export a runs/s11 model like the embedded default (float16 adapter and projector, the default's teacher and
# WhisperPro) and run session 10's hearing check on it (the 360-clip dev_unseen, own dev and held-out probe phrasings).
#   check.sh SEED STEP [THREADS]    STEP: hearing | stage2-ctl | stage2-swap
#   -> runs/s11/sSEED/STEP-default, results/robust-hearing/s11/hc-sSEED-STEP{,-probe}.txt
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${3:-1}
D=src/textpro/assets/default
M=runs/s11/s$1/$2
[ -e $M-default ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('$M/model', '$D/teacher', '$D/whisperpro', 'runs/mini/data', '$M-default')" > /dev/null
results/robust-hearing/s10/check.sh $M-default s$1-$2 ${3:-1}
mv results/robust-hearing/s10/hc-s$1-$2.txt results/robust-hearing/s10/hc-s$1-$2-probe.txt results/robust-hearing/s11/
