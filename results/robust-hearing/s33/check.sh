#!/bin/bash
# Session 33 (rule 21 of s30/decision.md): the model `make mini` now builds (runs/mini/default, its own WhisperPro and
# teacher) beside the shipped default, on the same dev inputs rebuilt on this machine: own and probe hearing on the
# 360-clip dev_unseen (each model's features from its own WhisperPro), the 53 dev requests, then the 300 dev_unseen
# questions; and, to see where the recipe's hearing is lost, its slm-hearing and slm-stage2 models exported the same
# way (own hearing; the requests of slm-stage2, before the gate). Resumable: each output is skipped once it exists.
#   check.sh [THREADS]   -> results/robust-hearing/s33/{hc,hc-probe,requests}-ARM.txt, ARM-dev_unseen-bigsem/
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
T=${1:-2} S=results/robust-hearing/s33 R=runs/s33 D=src/textpro/assets/default
mkdir -p $R
ln -sfn $PWD/runs/mini/default $R/recipe-default
ln -sfn $PWD/$D $R/shipped-default
for step in hearing stage2; do
  [ -e $R/recipe-$step-default ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('runs/mini/slm-$step/model', 'runs/mini/teacher/model', 'runs/mini/whisperpro/model', 'runs/mini/data', \
'$R/recipe-$step-default')" > /dev/null
done
[ -e runs/s9/feat/bigdev_recipe/index.jsonl ] || results/robust-hearing/s7/bigdev.sh runs/s9 default=$D/whisperpro \
  recipe=runs/mini/whisperpro/model > $R/bigdev.log 2>&1
[ -e runs/s15/bigreq/summary.json ] || results/robust-hearing/s15/bigreq.sh > $R/bigreq.log 2>&1
echo "$(date +%T) inputs built"

hearing() {  # ARM FEATURES [probe]: the hearing check with its own dev phrasings, or the held-out probe phrasings
  local f=$S/hc-$1${3:+-probe}.txt
  [ -s $f ] || OMP_NUM_THREADS=$T .venv/bin/python benchmarks/hearing_check.py $R/$1-default runs/s9/feat/bigdev_$2 \
    --threads $T ${3:+--phrasings results/robust-hearing/s10/probe-phrasings.yaml} 2>&1 \
    | grep -E "^(gender|pitch|rate)|  by " > $f
}
requests() {  # ARM: the 53 dev requests
  [ -s $S/requests-$1.txt ] || OMP_NUM_THREADS=$T .venv/bin/python results/robust-hearing/s15/request_diag.py \
    $R/$1-default runs/s15/bigreq dev_unseen --jsonl $R/requests-$1.jsonl > $S/requests-$1.txt 2> $R/requests-$1.log
}
for pair in shipped=default recipe=recipe; do
  hearing ${pair%=*} ${pair#*=}
  hearing ${pair%=*} ${pair#*=} probe
  requests ${pair%=*}
  echo "$(date +%T) ${pair%=*} hearing + requests checked"
done
hearing recipe-hearing recipe
hearing recipe-stage2 recipe
requests recipe-stage2
echo "$(date +%T) the recipe's earlier steps checked"
[ -e runs/s12/bigsem/summary.json ] || results/robust-hearing/s12/bigsem.sh > $R/bigsem.log 2>&1
for arm in recipe shipped; do
  [ -e $S/$arm-dev_unseen-bigsem/results.json ] || BENCH=runs/s12/bigsem RUNS=$R RESULTS=$S \
    results/robust-hearing/s11/eval.sh $arm dev_unseen $T
  echo "$(date +%T) $arm 300 questions"
done
echo "$(date +%T) ALL DONE"
