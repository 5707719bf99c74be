#!/bin/bash
# Session 48 (rule 53 of s30/decision.md): the default's last step (session 32's gpm step: projector only, adapter
# kept by freeze_adapter, lr 2e-4, half the content rows at the mean voice) continued from the embedded default for
# 100 steps at seed 13:
#   acc3-s13: paralinguistic.task_weights {accent: 3.0} (accent 3/7 of the paralinguistic rows)
#   ctl-s13:  the same step without weights (what 100 more steps alone do)
#   acc3hi-s13: acc3-s13 at learning rate 2e-3 (10x) for 50 steps (rule 54)
# Inputs: runs/s9/features (s11/rebuild.sh inputs).   train.sh ARM [THREADS]  -> runs/s48/ARM-default
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
arm=$1
[ -e runs/s48/$arm-default ] && exit 0
source results/robust-hearing/s22/hacc85-args.sh
step=("${hacc85[@]}" --set init_from=src/textpro/assets/default --set paralinguistic.ratio=0.65
      --set train.max_steps=100 --set neutral_content=0.5 --set freeze_adapter=true
      --set train.learning_rate=2.0e-4 --set train.seed=${arm##*-s})
mkdir -p runs/s48
case $arm in
  acc3-s*) train_arm runs/s48 $arm ${2:-2} "${step[@]}" --set "paralinguistic.task_weights={accent: 3.0}" ;;
  acc3hi-s*) train_arm runs/s48 $arm ${2:-2} "${step[@]}" --set "paralinguistic.task_weights={accent: 3.0}" \
    --set train.learning_rate=2.0e-3 --set train.max_steps=50 ;;
  ctl-s*) train_arm runs/s48 $arm ${2:-2} "${step[@]}" ;;
  *) echo "unknown arm $arm" >&2; exit 1 ;;
esac
