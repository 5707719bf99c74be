#!/bin/bash
# Session 45, rules 46-47 (s30/decision.md): the recipe's gate step with one override, from each control's own stage-2
# model at its own seed (0: runs/mini-cas, 1: s44 ctrl-s1, 2: s44 ctrl-s2), then the same dev checks (s42/arm.sh: own
# and probe hearing on 360 dev_unseen clips, 53 dev_unseen requests, 300 dev_unseen questions). Alone on the machine;
# resumable.  results/robust-hearing/s45/go.sh PREFIX "--set OPTION=VALUE" > runs/s45/go-PREFIX.out 2>&1
#   rule 46: go.sh cam "--set content_acoustic_mean=0.5";  rule 47: go.sh pull "--set content_mean_pull=0.5"
cd "$(dirname "$0")/../../.."
export S=results/robust-hearing/s45 R=runs/s45
declare -A STAGE2=([0]=runs/mini-cas/slm-stage2/model [1]=runs/s44/ctrl-s1-stage2/model
                   [2]=runs/s44/ctrl-s2-stage2/model)
for seed in ${SEEDS:-1 0 2}; do
  echo "$(date -u +%T) $1-s$seed start"
  results/robust-hearing/s42/arm.sh $1-s$seed "--set train.seed=$seed --set init_from=${STAGE2[$seed]} $2" || exit 1
  if [ $seed = 1 ]; then  # the rule's early stop: seed 1 alone loses >= 2 agreement points against ctrl-s1
    .venv/bin/python results/robust-hearing/s45/compare.py $1 > $S/compare-$1.txt
    grep -q "^mean change over 1 pairs: agreement -\([2-9]\|[1-9][0-9]\)\." $S/compare-$1.txt \
      && { echo "$(date -u +%T) $1-s1 loses >= 2 agreement points: stop"; exit 0; }
  fi
done
.venv/bin/python results/robust-hearing/s45/compare.py $1 > $S/compare-$1.txt
echo "$(date -u +%T) all done"
