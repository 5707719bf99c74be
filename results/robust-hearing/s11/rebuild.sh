#!/bin/bash
# Session 11 on a fresh machine: rebuild the inputs that paired.sh and check.sh read (sessions 9–10 made them by hand).
#   runs/mini/data          the recipe's data step (make-mini, seed 0, 2 h, 2 workers)
#   runs/s9/features        the embedded default WhisperPro's featurize of the train split and the default teacher's
#                           distillation targets: the recipe's featurize + distill steps with whisperpro.use: default
#                           and the default's teacher (out runs/s11/base, data linked to runs/mini/data)
#   runs/s9/feat/bigdev_default   the 360-clip dev_unseen (s7/bigdev.sh), featurized with the default WhisperPro
#   runs/s10/scratch-sSEED/stage1 the recipe's stage 1 on those features (s10/scratch.sh's first step)
#   rebuild.sh inputs|stage1 SEED [THREADS]
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
D=$PWD/src/textpro/assets/default
case $1 in
inputs)
  OMP_NUM_THREADS=1 .venv/bin/textpro recipe mini --out runs/mini --until data
  B=runs/s11/base
  mkdir -p $B/teacher runs/s9
  ln -sfn $PWD/runs/mini/data $B/data
  ln -sfn $D/teacher $B/teacher/model
  sed 's/^  config: configs\/whisperpro-mini.yaml/&\n  use: default/' configs/recipe-mini.yaml > $B/recipe.yaml
  ln -sfn $PWD/$B/features runs/s9/features
  mkdir -p $B/done && for s in data teacher whisperpro; do echo "{\"step\": \"$s\"}" > $B/done/$s.json; done   # linked, the default's, whisperpro.use
  OMP_NUM_THREADS=1 .venv/bin/textpro recipe mini --out $B --config $B/recipe.yaml --from featurize --until distill &
  results/robust-hearing/s7/bigdev.sh runs/s9 default=$D/whisperpro &
  wait ;;
stage1)
  seed=$2
  R=runs/s10/scratch-s$seed
  [ -e $R/stage1/model ] || OMP_NUM_THREADS=${3:-1} .venv/bin/textpro train slm --stage 1 \
    --config configs/slm-mini-stage1.yaml --output $R/stage1 --resume --set train.seed=$seed \
    --set features=[runs/s9/features/train] --set slm.base_llm=$D/teacher --set train.max_steps=100 ;;
esac
