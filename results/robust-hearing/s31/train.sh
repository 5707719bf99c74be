#!/bin/bash
# Session 31's arms (rules 15-16 of s30/decision.md): gp-sN = session 30's gsrc (the default + its router) + 50 steps of
# the default's step with half the content rows at the mean voice and the adapter kept (freeze_adapter: only the
# projector trains), seed N; soupP = gp-s9 + gp-s10 averaged (soupPl: gpl-s9 + gpl-s10); gpl-sN = gp-sN at learning rate 1e-4 (the step's: 4e-4).
#   train.sh ARM [THREADS]  -> runs/s31/ARM-default
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
arm=$1 out=runs/s31/$1-default
[ -e $out ] && exit 0
source results/robust-hearing/s22/hacc85-args.sh
gp=("${hacc85[@]}" --set init_from=runs/s30/gsrc-default --set paralinguistic.ratio=0.65 --set train.max_steps=50
    --set neutral_content=0.5 --set freeze_adapter=true --set train.seed=${arm##*-s})
case $arm in
  gp-s*) train_arm runs/s31 $arm ${2:-2} "${gp[@]}" || exit 1 ;;
  gpl-s*) train_arm runs/s31 $arm ${2:-2} "${gp[@]}" --set train.learning_rate=1.0e-4 || exit 1 ;;
  soupP) for part in gp-s9 gp-s10; do [ -e runs/s31/$part-default ] || $0 $part ${2:-2} || exit 1; done
    .venv/bin/textpro soup runs/s31/gp-s9-default runs/s31/gp-s10-default --out $out ;;
  soupPl) for part in gpl-s9 gpl-s10; do [ -e runs/s31/$part-default ] || $0 $part ${2:-2} || exit 1; done
    .venv/bin/textpro soup runs/s31/gpl-s9-default runs/s31/gpl-s10-default --out $out ;;
  *) echo "unknown arm $arm" >&2; exit 1 ;;
esac
