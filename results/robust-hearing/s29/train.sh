#!/bin/bash
# Session 29: the default's step (s22/hacc85-args.sh with 35% content rows, from bk-s7) with a softer, louder KL on
# the content rows (kd_temperature 2.0: both distributions softened, the KL term scaled by 4), paired by seed with
# sessions 24/26's ctl65-s7 and ctl65-s8:
#   T2-s7, T2-s8: seeds 7 and 8;  soupT2: the two averaged (`textpro soup`), against soup65 (ctl65-s7 + ctl65-s8)
#   train.sh ARM [THREADS]   -> runs/s29/ARM, runs/s29/ARM-default
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
N=$1 T=${2:-2}
source results/robust-hearing/s22/hacc85-args.sh
mkdir -p runs/s29
if [ $N = soupT2 ]; then
  for part in T2-s7 T2-s8; do [ -e runs/s29/$part-default ] || $0 $part $T || exit 1; done
  [ -e runs/s29/$N-default ] || .venv/bin/textpro soup runs/s29/T2-s7-default runs/s29/T2-s8-default \
    --out runs/s29/$N-default || exit 1
  echo "$(date +%T) $N averaged"; exit 0
fi
case $N in
  T2-s7|T2-s8) args=("${hacc85[@]}" --set paralinguistic.ratio=0.65 --set kd_temperature=2.0) ;;
  *) echo "unknown arm $N"; exit 1 ;;
esac
train_arm runs/s29 $N $T --set train.seed=${N##*-s} "${args[@]}"
