#!/bin/bash
# Session 40 (rule 29 of s30/decision.md): the recipe's last two SLM steps (runs/mini-swap/configs/slm-stage2.yaml,
# then slm-gate.yaml) from runs/mini-swap's hearing phase with overrides, then s39/devcheck.sh's checks on the same dev
# inputs (own and probe hearing on 360 dev_unseen clips, the 53 dev_unseen requests, the 300 dev_unseen questions).
# Alone on the machine (2 threads); resumable, a finished output is skipped.
#   arm.sh ARM "STAGE2 --set ARGS" "GATE --set ARGS"
#     -> runs/s40/ARM-{stage2,gate}/, results/robust-hearing/s40/{hc,hc-probe,requests}-ARM.txt, s40/ARM-dev_unseen-bigsem/
cd "$(dirname "$0")/../../.."
# a later session passes its own S, R, and may start from another `make mini` (MINI, its TEACHER_ANSWERS and FEATURES)
export S=${S:-results/robust-hearing/s40} R=${R:-runs/s40} MINI=${MINI:-runs/mini-swap}
export TEACHER_ANSWERS=${TEACHER_ANSWERS:-runs/s39/eval-miniswap-dev_unseen-bigsem/responses.jsonl}  # same 300 items
FEATURES=${FEATURES:-runs/s9/feat/bigdev_miniswap}  # the 360 dev_unseen clips featurized with MINI's WhisperPro
source results/robust-hearing/s34/common.sh
A=$1
train() {  # STEP CONFIG INIT OVERRIDES
  [ -e $R/$A-$1/model ] || .venv/bin/textpro train slm --stage 2 --config $MINI/configs/$2.yaml \
    --output $R/$A-$1 --set init_from=$3 $4 --resume > $R/$A-$1.log 2>&1 || exit 1
}
train stage2 slm-stage2 $MINI/slm-hearing/model "$2"
train gate slm-gate $R/$A-stage2/model "$3"
D=$R/$A-default
export_arm $R/$A-gate/model $D || exit 1
echo "$(date +%T) $A trained"
final_checks $D $A $FEATURES
