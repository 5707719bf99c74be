#!/bin/bash
# Session 34 (rule 22 of s30/decision.md): the recipe's hearing phase (runs/mini/configs/slm-hearing.yaml, from
# runs/mini/slm-stage1) at STEPS steps and SEED, alone on the machine (2 threads), then its own-phrasing hearing on the
# 360 dev_unseen clips and the fit on 60 of its own training clips per task. Resumable (`--resume`; a finished check
# is skipped).
#   hearing.sh STEPS SEED   -> runs/s34/hSTEPS-sSEED/, results/robust-hearing/s34/hc-hSTEPS-sSEED{,-train}.txt
cd "$(dirname "$0")/../../.."
source results/robust-hearing/s34/common.sh
N=$1 SEED=$2 ARM=h$1-s$2 BY="  by form"
train_hearing runs/mini/configs/slm-hearing.yaml $ARM --set train.max_steps=$N --set train.seed=$SEED || exit 1
check_hearing_arm $ARM
