#!/bin/bash
# Session 34 (rule 22 of s30/decision.md): the recipe's hearing phase (runs/mini/configs/slm-hearing.yaml, from
# runs/mini/slm-stage1) at STEPS steps and SEED, alone on the machine (2 threads), then its own-phrasing hearing on the
# 360 dev_unseen clips and the fit on 60 of its own training clips per task. Resumable (`--resume`; a finished check
# is skipped).
#   hearing.sh STEPS SEED   -> runs/s34/hSTEPS-sSEED/, results/robust-hearing/s34/hc-hSTEPS-sSEED{,-train}.txt
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
N=$1 SEED=$2 ARM=h$1-s$2 S=results/robust-hearing/s34 R=runs/s34
mkdir -p $R
[ -e $R/$ARM/model ] || .venv/bin/textpro train slm --stage 2 --config runs/mini/configs/slm-hearing.yaml \
  --output $R/$ARM --set train.max_steps=$N --set train.seed=$SEED --set train.save_every=80 --set train.keep_last=5 \
  --resume > $R/$ARM.log 2>&1 || exit 1
[ -e $R/$ARM-default ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('$R/$ARM/model', 'runs/mini/teacher/model', 'runs/mini/whisperpro/model', 'runs/mini/data', '$R/$ARM-default')" \
  > /dev/null
check() {  # FEATURES SUFFIX [ARGS...]
  local f=$S/hc-$ARM$2.txt
  [ -s $f ] || .venv/bin/python benchmarks/hearing_check.py $R/$ARM-default $1 --threads 2 "${@:3}" 2>&1 \
    | grep -E "^(gender|pitch|rate)|  by form" > $f
}
check runs/s9/feat/bigdev_recipe ""
check runs/mini/features/train -train --limit 60
echo "$(date +%T) $ARM done"
