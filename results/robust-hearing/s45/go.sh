#!/bin/bash
# Session 45, rule 46 (s30/decision.md): the recipe's gate step with content_acoustic_mean 0.5, from each control's
# own stage-2 model at its own seed (0: runs/mini-cas, 1: s44 ctrl-s1, 2: s44 ctrl-s2), then the same dev checks
# (s42/arm.sh: own and probe hearing on 360 dev_unseen clips, 53 dev_unseen requests, 300 dev_unseen questions).
# Alone on the machine; resumable.  results/robust-hearing/s45/go.sh > runs/s45/go.out 2>&1
cd "$(dirname "$0")/../../.."
export S=results/robust-hearing/s45 R=runs/s45
declare -A STAGE2=([0]=runs/mini-cas/slm-stage2/model [1]=runs/s44/ctrl-s1-stage2/model
                   [2]=runs/s44/ctrl-s2-stage2/model)
for seed in ${SEEDS:-1 0 2}; do
  echo "$(date -u +%T) cam-s$seed start"
  results/robust-hearing/s42/arm.sh cam-s$seed "--set train.seed=$seed --set init_from=${STAGE2[$seed]}
    --set content_acoustic_mean=0.5" || exit 1
done
echo "$(date -u +%T) all done"
