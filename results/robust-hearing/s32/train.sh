#!/bin/bash
# Session 32's arms (rule 19 of s30/decision.md): gpm-sN = session 31's gp-sN (gsrc + 50 steps of the default's step,
# half the content rows at the mean voice, adapter kept by freeze_adapter: only the projector trains, seed N) at
# learning rate 2e-4, between gp's 4e-4 (agreement bought, a seed's rate lost) and gpl's 1e-4 (hearing kept, agreement
# 92.7-94.0); soupPm = gpm-s9 + gpm-s10 averaged (rule 19); soupPm4 = gpm-s9 ... gpm-s12 averaged (rule 20).
#   train.sh ARM [THREADS]  -> runs/s32/ARM-default
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
arm=$1 out=runs/s32/$1-default
[ -e $out ] && exit 0
source results/robust-hearing/s22/hacc85-args.sh
gp=("${hacc85[@]}" --set init_from=runs/s30/gsrc-default --set paralinguistic.ratio=0.65 --set train.max_steps=50
    --set neutral_content=0.5 --set freeze_adapter=true --set train.seed=${arm##*-s})
case $arm in
  gpm-s*) train_arm runs/s32 $arm ${2:-2} "${gp[@]}" --set train.learning_rate=2.0e-4 || exit 1 ;;
  soupPm) for part in gpm-s9 gpm-s10; do [ -e runs/s32/$part-default ] || $0 $part ${2:-2} || exit 1; done
    .venv/bin/textpro soup runs/s32/gpm-s9-default runs/s32/gpm-s10-default --out $out ;;
  soupPm4) for part in gpm-s9 gpm-s10 gpm-s11 gpm-s12; do [ -e runs/s32/$part-default ] || $0 $part ${2:-2} || exit 1; done
    .venv/bin/textpro soup runs/s32/gpm-s{9,10,11,12}-default --out $out ;;
  *) echo "unknown arm $arm" >&2; exit 1 ;;
esac
