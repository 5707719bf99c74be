#!/bin/bash
# Session 34 (rule 22 of s30/decision.md): the recipe's last two SLM steps (runs/mini/configs/slm-stage2.yaml, then
# slm-gate.yaml: the same settings as `make mini`) continued from a hearing-phase arm of hearing.sh, then the checks
# of session 33's check.sh on the same dev inputs: own and probe hearing (360 dev_unseen clips), the 53 dev requests,
# the 300 dev_unseen questions. Alone on the machine (2 threads); resumable, a finished output is skipped.
#   continue.sh ARM [hearing]   (hearing: stop after the two hearing checks)
#                     -> runs/s34/ARM-{stage2,gate}/, results/robust-hearing/s34/{hc,hc-probe,requests}-ARM-gate.txt,
#                        s34/ARM-gate-dev_unseen-bigsem/
cd "$(dirname "$0")/../../.."
source results/robust-hearing/s34/common.sh
A=$1
train() {  # STEP CONFIG INIT
  [ -e $R/$A-$1/model ] || .venv/bin/textpro train slm --stage 2 --config runs/mini/configs/$2.yaml \
    --output $R/$A-$1 --set init_from=$3 --resume > $R/$A-$1.log 2>&1 || exit 1
}
train stage2 slm-stage2 $R/$A/model
train gate slm-gate $R/$A-stage2/model
D=$R/$A-gate-default
export_arm $R/$A-gate/model $D
echo "$(date +%T) $A trained"
hearing_check $S/hc-$A-gate.txt $D runs/s9/feat/bigdev_recipe
hearing_check $S/hc-$A-gate-probe.txt $D runs/s9/feat/bigdev_recipe \
  --phrasings results/robust-hearing/s10/probe-phrasings.yaml
[ "$2" = hearing ] && { echo "$(date +%T) $A hearing checked"; exit 0; }
content_checks $D $A-gate
echo "$(date +%T) $A ALL DONE"
