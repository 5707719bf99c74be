#!/bin/bash
# Session 10: the recipe's three SLM steps from scratch with learned_swap in the hearing phase and stage 2, on the
# embedded default's teacher and WhisperPro features (runs/s9/features: the Qwen recipe's featurize of the same
# WhisperPro, same fraction and data seed; distill targets from the default's teacher).
#   scratch.sh SEED [THREADS] [SWAP]     -> runs/s10/scratch-sSEED/{stage1,hearing,stage2}; resumable
set -e
cd "$(dirname "$0")/../../.."
seed=$1; threads=${2:-1}; swap=${3:-0.95}
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=$threads
R=runs/s10/scratch-s$seed${SWAP_TAG:-}
F=runs/s9/features
common="--set train.seed=$seed --set features=[$F/train]"
swapset="--set learned_swap=$swap --set branch_dropout=[0.0,0.0]"
[ "$swap" = "off" ] && swapset=""
mkdir -p $R
[ -e $R/stage1/model ] || .venv/bin/textpro train slm --stage 1 --config configs/slm-mini-stage1.yaml --output $R/stage1 \
  --resume $common --set slm.base_llm=src/textpro/assets/default/teacher --set train.max_steps=100
[ -e $R/hearing/model ] || .venv/bin/textpro train slm --stage 2 --config configs/slm-mini-stage2-hearing.yaml --output $R/hearing \
  --resume $common --set init_from=$R/stage1/model --set train.max_steps=160 $swapset
[ -e $R/stage2/model ] || .venv/bin/textpro train slm --stage 2 --config configs/slm-mini-stage2.yaml --output $R/stage2 \
  --resume $common --set init_from=$R/hearing/model --set distill=$F/distill.jsonl --set train.max_steps=100 $swapset
echo DONE
