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
[ -s $S/requests-$A-gate.txt ] || .venv/bin/python results/robust-hearing/s15/request_diag.py $D runs/s15/bigreq \
  dev_unseen --jsonl $R/requests-$A-gate.jsonl > $S/requests-$A-gate.txt 2> $R/requests-$A-gate.log
echo "$(date +%T) $A hearing + requests checked"
out=$R/eval-$A-gate-dev_unseen-bigsem
if [ ! -e $S/$A-gate-dev_unseen-bigsem/results.json ]; then
  mkdir -p $out  # the text LLM's answers do not depend on the SLM: session 33's, same teacher, same items
  [ -e $out/responses.jsonl ] || grep '"system": "teacher"' runs/s33/eval-recipe-dev_unseen-bigsem/responses.jsonl \
    > $out/responses.jsonl
  .venv/bin/textpro eval --bench runs/s12/bigsem --split dev_unseen --model $D --text-model $D/teacher --out $out \
    > $out.log 2>&1 && mkdir -p $S/$A-gate-dev_unseen-bigsem && cp $out/results.{json,md} $S/$A-gate-dev_unseen-bigsem/
fi
echo "$(date +%T) $A ALL DONE"
