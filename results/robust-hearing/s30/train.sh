#!/bin/bash
# Session 30's arms (no LLM training): svdK = the default with its adapter cut to the top K directions per module,
# rsvdK = the same cut of the replicate soup65x4r; gate / rgate = the default / soup65x4r with a per-turn adapter gate
# fitted as a router by the harness (gated.py; checks must run with PYTHONPATH=results/robust-hearing/s30/hook);
# gsrc / rgsrc: the same with src's own router (fit_gate.py); gtn-sN: gsrc trained on (seed N, the harness's
# mean-voice rows); gn-sN: the same with src's neutral_content; soupG: gtn-s7 + gn-s8 averaged;
# soupGr: gn-s9 + gn-s10 averaged (rule 12).
#   train.sh ARM [THREADS]  -> runs/s30/ARM-default
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
arm=$1 out=runs/s30/$1-default S=results/robust-hearing/s30
[ -e $out ] && exit 0
case $arm in
  svd*) .venv/bin/python $S/svd_adapter.py src/textpro/assets/default $out --keep ${arm#svd} ;;
  rsvd*) .venv/bin/python $S/svd_adapter.py runs/s28/soup65x4r-default $out --keep ${arm#rsvd} ;;
  gate) .venv/bin/python $S/gated.py fit src/textpro/assets/default $out --kind embed ;;
  gateh15) .venv/bin/python $S/gated.py fit src/textpro/assets/default $out --kind hidden:15 ;;
  rgateh15) .venv/bin/python $S/gated.py fit runs/s28/soup65x4r-default $out --kind hidden:15 ;;
  rgate) .venv/bin/python $S/gated.py fit runs/s28/soup65x4r-default $out ;;
  gsrc) .venv/bin/python $S/fit_gate.py src/textpro/assets/default $out ;;
  rgsrc) .venv/bin/python $S/fit_gate.py runs/s28/soup65x4r-default $out ;;
  gtn-s*)  # gsrc + 50 steps of the default's step with the router attached, half the content rows at the mean
    source results/robust-hearing/s22/hacc85-args.sh
    ( export GATE_NEUTRAL_CONTENT=0.5 PYTHONPATH=$S/hook
      train_arm runs/s30 $arm ${2:-2} "${hacc85[@]}" --set init_from=runs/s30/gsrc-default \
        --set paralinguistic.ratio=0.65 --set train.max_steps=50 --set train.seed=${arm##*-s} ) || exit 1 ;;
  gn-s*)  # the same step with src's own option (neutral_content: a seeded share of rows) and no harness
    source results/robust-hearing/s22/hacc85-args.sh
    train_arm runs/s30 $arm ${2:-2} "${hacc85[@]}" --set init_from=runs/s30/gsrc-default \
      --set paralinguistic.ratio=0.65 --set train.max_steps=50 --set neutral_content=0.5 \
      --set train.seed=${arm##*-s} || exit 1 ;;
  soupG) .venv/bin/textpro soup runs/s30/gtn-s7-default runs/s30/gn-s8-default --out $out ;;
  soupGr) for part in gn-s9 gn-s10; do [ -e runs/s30/$part-default ] || $0 $part ${2:-2} || exit 1; done
    .venv/bin/textpro soup runs/s30/gn-s9-default runs/s30/gn-s10-default --out $out ;;
  *) echo "unknown arm $arm" >&2; exit 1 ;;
esac
