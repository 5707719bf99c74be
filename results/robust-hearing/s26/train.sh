#!/bin/bash
# Session 26: the content dose between the default's and ctl65's. Session 24's dose arms found that 35% content rows
# (paralinguistic.ratio 0.65, ctl65-s7) lift the 53 dev_unseen requests' ROUGE-L against the same transcript from
# 0.499 to 0.540 but lose held-out hearing (probe mean 88.0 < 90) and the 300 questions' margin (-1.3 < -1.0).
# Every arm starts like the default (hacc85-s7: bk-s7 + 100 steps, s22/hacc85-args.sh), one change:
#   mid75-s7, mid75-s8: 25% content rows (ratio 0.75), seeds 7 and 8
#   ph-s7: two phases, content then hearing: ctl65-s7 (35% content rows, 100 steps) + 30 steps at the default's mix
#          (ratio 0.85): does a short hearing phase bring the held-out hearing back before the open answers drift?
#   ctl65-s8 (-s9, -s10): session 24's ctl65-s7 (35% content rows) at seed 8 (9, 10): is its 0.540 on the
#          requests a dose effect or a draw?
#   soup65: no training: ctl65-s7 and ctl65-s8 averaged in weight space (s22/interpolate.py, alpha 0.5; model soups):
#          does averaging two seeds of the same dose keep the content of both and the hearing that one of them lost?
#          soup65b: the same soup of seeds 9 and 10 (its replicate); soup65x4: all four seeds averaged
#   train.sh ARM [THREADS]   -> runs/s26/ARM, runs/s26/ARM-default
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
N=$1 T=${2:-2}
source results/robust-hearing/s22/hacc85-args.sh
case $N in  # soups: no training, two exported models averaged (s22/interpolate.py, alpha 0.5)
  soup65) parts=(runs/s24/ctl65-s7 runs/s26/ctl65-s8) ;;
  soup65b) parts=(runs/s26/ctl65-s9 runs/s26/ctl65-s10) ;;  # soup65's replicate
  soup65x4) parts=(runs/s26/soup65 runs/s26/soup65b) ;;  # the four seeds, half and half
esac
if [ -n "$parts" ]; then
  for part in "${parts[@]}"; do  # runs/sN/ARM is made by results/robust-hearing/sN/train.sh ARM
    [ -e $part-default ] || results/robust-hearing/$(basename $(dirname $part))/train.sh $(basename $part) $T || exit 1
  done
  [ -e runs/s26/$N-default ] || .venv/bin/python results/robust-hearing/s22/interpolate.py ${parts[0]}-default \
    ${parts[1]}-default runs/s26/$N-default --alpha 0.5 || exit 1
  echo "$(date +%T) $N averaged"; exit 0
fi
case $N in
  mid75-s7|mid75-s8) args=("${hacc85[@]}" --set paralinguistic.ratio=0.75) ;;
  ctl65-s8|ctl65-s9|ctl65-s10) args=("${hacc85[@]}" --set paralinguistic.ratio=0.65) ;;
  ph-s7) [ -e runs/s24/ctl65-s7-default ] || results/robust-hearing/s24/train.sh ctl65-s7 $T || exit 1
         args=("${hacc85[@]}" --set init_from=runs/s24/ctl65-s7-default --set train.max_steps=30) ;;
  *) echo "unknown arm $N"; exit 1 ;;
esac
mkdir -p runs/s26
train_arm runs/s26 $N $T --set train.seed=${N##*-s} "${args[@]}"
