#!/bin/bash
# Session 28: more seeds of the default's step (s26's ctl65: bk-s7 + 100 steps, s22/hacc85-args.sh with 35% content
# rows), trained with the objective's response-only logits (same loss to float rounding, faster on CPU):
#   ctl65-s11 ... ctl65-s14: seeds 11-14
#   soup65x4r: seeds 11-14 averaged (`textpro soup`): the default's independent replicate (soup65x4 is seeds 7-10)
#   soup65x8: seeds 7-14 averaged: do more seeds keep moving the open answers?
#   soupx6: no training: soup65x4's four seeds and s27's mix50-s7, mix50-s8 (50% content rows), equal weights
#   soup65x6: seeds 7-12 (if 13 and 14 do not finish)
#   train.sh ARM [THREADS]   -> runs/s28/ARM, runs/s28/ARM-default
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
N=$1 T=${2:-2}
source results/robust-hearing/s22/hacc85-args.sh
x4=(runs/s24/ctl65-s7 runs/s26/ctl65-s8 runs/s26/ctl65-s9 runs/s26/ctl65-s10)
case $N in  # soups: no training, exported models averaged with equal weights
  soupx6) parts=("${x4[@]}" runs/s27/mix50-s7 runs/s27/mix50-s8) ;;
  soup65x4r) parts=(runs/s28/ctl65-s11 runs/s28/ctl65-s12 runs/s28/ctl65-s13 runs/s28/ctl65-s14) ;;
  soup65x6) parts=("${x4[@]}" runs/s28/ctl65-s11 runs/s28/ctl65-s12) ;;
  soup65x8) parts=("${x4[@]}" runs/s28/ctl65-s11 runs/s28/ctl65-s12 runs/s28/ctl65-s13 runs/s28/ctl65-s14) ;;
esac
mkdir -p runs/s28
if [ -n "$parts" ]; then
  for part in "${parts[@]}"; do  # runs/sN/ARM is made by results/robust-hearing/sN/train.sh ARM
    [ -e $part-default ] || results/robust-hearing/$(basename $(dirname $part))/train.sh $(basename $part) $T || exit 1
  done
  [ -e runs/s28/$N-default ] || .venv/bin/textpro soup "${parts[@]/%/-default}" --out runs/s28/$N-default || exit 1
  echo "$(date +%T) $N averaged"; exit 0
fi
case $N in
  ctl65-s11|ctl65-s12|ctl65-s13|ctl65-s14) args=("${hacc85[@]}" --set paralinguistic.ratio=0.65) ;;
  *) echo "unknown arm $N"; exit 1 ;;
esac
train_arm runs/s28 $N $T --set train.seed=${N##*-s} "${args[@]}"
