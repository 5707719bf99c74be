#!/bin/bash
# Session 33 (rule 21 of s30/decision.md): the model `make mini` now builds (runs/mini/default, its own WhisperPro and
# teacher) beside the shipped default, on the same dev inputs rebuilt on this machine: own and probe hearing on the
# 360-clip dev_unseen (each model's features from its own WhisperPro), the 53 dev requests, then the 300 dev_unseen
# questions. Resumable: each output is skipped once it exists.
#   check.sh [THREADS]   -> results/robust-hearing/s33/{hc,hc-probe,requests}-{shipped,recipe}.txt, *-dev_unseen-bigsem/
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
T=${1:-2} S=results/robust-hearing/s33 R=runs/s33 D=src/textpro/assets/default
mkdir -p $R
ln -sfn $PWD/runs/mini/default $R/recipe-default
ln -sfn $PWD/$D $R/shipped-default
[ -e runs/s9/feat/bigdev_recipe/index.jsonl ] || results/robust-hearing/s7/bigdev.sh runs/s9 default=$D/whisperpro \
  recipe=runs/mini/whisperpro/model > $R/bigdev.log 2>&1
[ -e runs/s15/bigreq/summary.json ] || results/robust-hearing/s15/bigreq.sh > $R/bigreq.log 2>&1
echo "$(date +%T) inputs built"
for pair in shipped=default recipe=recipe; do
  arm=${pair%=*} m=$R/${pair%=*}-default
  for probe in "" probe; do
    f=$S/hc-$arm${probe:+-probe}.txt
    [ -s $f ] || OMP_NUM_THREADS=$T .venv/bin/python benchmarks/hearing_check.py $m runs/s9/feat/bigdev_${pair#*=} \
      --threads $T ${probe:+--phrasings results/robust-hearing/s10/probe-phrasings.yaml} 2>&1 \
      | grep -E "^(gender|pitch|rate)|  by " > $f
  done
  [ -s $S/requests-$arm.txt ] || OMP_NUM_THREADS=$T .venv/bin/python results/robust-hearing/s15/request_diag.py $m \
    runs/s15/bigreq dev_unseen --jsonl $R/requests-$arm.jsonl > $S/requests-$arm.txt 2> $R/requests-$arm.log
  echo "$(date +%T) $arm hearing + requests checked"
done
[ -e runs/s12/bigsem/summary.json ] || results/robust-hearing/s12/bigsem.sh > $R/bigsem.log 2>&1
for arm in recipe shipped; do
  [ -e $S/$arm-dev_unseen-bigsem/results.json ] || BENCH=runs/s12/bigsem RUNS=$R RESULTS=$S \
    results/robust-hearing/s11/eval.sh $arm dev_unseen $T
  echo "$(date +%T) $arm 300 questions"
done
echo "$(date +%T) ALL DONE"
