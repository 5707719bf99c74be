#!/bin/bash
# Session 11: a candidate default, session 10's cont-yn (the embedded default + 50 steps of its own stage 2 with
# yes_no_own_share null) at one seed; exported like the default, then session 10's hearing check (360-clip dev_unseen,
# own dev and probe phrasings) and `textpro eval` on the recipe's dev_unseen (content beside hearing).
#   cont.sh SEED [THREADS]   -> runs/s11/cont-yn-sSEED{,-default}, s11/hc-cont-yn-sSEED{,-probe}.txt,
#                               s11/cont-yn-sSEED-dev_unseen/results.{json,md}; resumable
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${2:-1}
S=results/robust-hearing/s11
M=runs/s11/cont-yn-s$1
D=src/textpro/assets/default
[ -e $M/model ] || .venv/bin/textpro train slm --stage 2 --config $S/cont-yn.yaml --output $M --resume \
  --set train.seed=$1 --set train.max_steps=50 > $M.log 2>&1
[ -e $M-default ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('$M/model', '$D/teacher', '$D/whisperpro', 'runs/mini/data', '$M-default')" > /dev/null
[ -e $S/hc-cont-yn-s$1-probe.txt ] || { results/robust-hearing/s10/check.sh $M-default cont-yn-s$1 ${2:-1}
  mv results/robust-hearing/s10/hc-cont-yn-s$1{,-probe}.txt $S/; }
.venv/bin/textpro eval --bench runs/mini/data --split dev_unseen --model $M-default --text-model $M-default/teacher \
  --out runs/s11/eval-cont-yn-s$1 > runs/s11/eval-cont-yn-s$1.log 2>&1
mkdir -p $S/cont-yn-s$1-dev_unseen
cp runs/s11/eval-cont-yn-s$1/results.{json,md} $S/cont-yn-s$1-dev_unseen/
