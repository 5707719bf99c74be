#!/bin/bash
# Session 34 (rule 22 of s30/decision.md): the recipe's hearing phase (runs/mini/configs/slm-hearing.yaml, from
# runs/mini/slm-stage1) at STEPS steps and SEED, alone on the machine (2 threads), then its own-phrasing hearing on the
# 360 dev_unseen clips and the fit on 60 of its own training clips per task. Resumable (`--resume`; a finished check
# is skipped).
#   hearing.sh STEPS SEED   -> runs/s34/hSTEPS-sSEED/, results/robust-hearing/s34/hc-hSTEPS-sSEED{,-train}.txt
cd "$(dirname "$0")/../../.."
source results/robust-hearing/s34/common.sh
N=$1 SEED=$2 ARM=h$1-s$2 BY="  by form"
[ -e $R/$ARM/model ] || .venv/bin/textpro train slm --stage 2 --config runs/mini/configs/slm-hearing.yaml \
  --output $R/$ARM --set train.max_steps=$N --set train.seed=$SEED --set train.save_every=80 --set train.keep_last=5 \
  --resume > $R/$ARM.log 2>&1 || exit 1
export_arm $R/$ARM/model $R/$ARM-default
hearing_check $S/hc-$ARM.txt $R/$ARM-default runs/s9/feat/bigdev_recipe
hearing_check $S/hc-$ARM-train.txt $R/$ARM-default runs/mini/features/train --limit 60
echo "$(date +%T) $ARM done"
