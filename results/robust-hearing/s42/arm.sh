#!/bin/bash
# Session 42 (rule 37 of s30/decision.md): the recipe's gate step (runs/mini-cas/configs/slm-gate.yaml) from
# runs/mini-cas's own stage-2 model with overrides, then s39/devcheck.sh's checks on the same dev inputs (own and probe
# hearing on the 360 dev_unseen clips featurized with mini-cas's WhisperPro, the 53 dev_unseen requests, the 300
# dev_unseen questions). Alone on the machine (2 threads); resumable, a finished output is skipped.
#   arm.sh ARM "GATE --set ARGS"
#     -> runs/s42/ARM-gate/, results/robust-hearing/s42/{hc,hc-probe,requests}-ARM.txt, s42/ARM-dev_unseen-bigsem/
cd "$(dirname "$0")/../../.."
export S=${S:-results/robust-hearing/s42} R=${R:-runs/s42} MINI=runs/mini-cas  # a later session passes its own S, R
export TEACHER_ANSWERS=runs/s39/eval-minicas-dev_unseen-bigsem/responses.jsonl  # same teacher, same 300 items
source results/robust-hearing/s34/common.sh
A=$1
[ -e $R/$A-gate/model ] || .venv/bin/textpro train slm --stage 2 --config $MINI/configs/slm-gate.yaml \
  --output $R/$A-gate $2 --resume > $R/$A-gate.log 2>&1 || exit 1
D=$R/$A-default
export_arm $R/$A-gate/model $D || exit 1
echo "$(date +%T) $A trained"
final_checks $D $A runs/s9/feat/bigdev_minicas
