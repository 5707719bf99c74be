#!/bin/bash
# Session 27: a larger content dose, averaged. One seed at a time the dose was inside the noise of the 53 dev requests
# (session 26: 25% content rows 0.480, 35% 0.540 and 0.515); averaged, two seeds at 35% read 0.548 and 0.557 and
# four 0.569, hearing kept. Does the average of two seeds at 50% content rows move the requests further?
#   mix50-s7, mix50-s8: the default's step (bk-s7 + 100 steps, s22/hacc85-args.sh) with paralinguistic.ratio 0.5
#   soup50: the two averaged (`textpro soup`)
#   train.sh ARM [THREADS]   -> runs/s27/ARM, runs/s27/ARM-default
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
N=$1 T=${2:-2}
source results/robust-hearing/s22/hacc85-args.sh
mkdir -p runs/s27
case $N in
  soup50) for part in mix50-s7 mix50-s8; do [ -e runs/s27/$part-default ] || $0 $part $T || exit 1; done
          [ -e runs/s27/$N-default ] || .venv/bin/textpro soup runs/s27/mix50-s7-default runs/s27/mix50-s8-default \
            --out runs/s27/$N-default || exit 1
          echo "$(date +%T) $N averaged"; exit 0 ;;
  mix50-s7|mix50-s8) args=("${hacc85[@]}" --set paralinguistic.ratio=0.5) ;;
  *) echo "unknown arm $N"; exit 1 ;;
esac
train_arm runs/s27 $N $T --set train.seed=${N##*-s} "${args[@]}"
