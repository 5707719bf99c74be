#!/bin/bash
# session 44, rule 45: a third seed of the recipe's last two steps from mini-cas's hearing phase
cd /work/main
export S=results/robust-hearing/s44 R=runs/s44 MINI=runs/mini-cas
export TEACHER_ANSWERS=runs/s39/eval-minicas-dev_unseen-bigsem/responses.jsonl FEATURES=runs/s9/feat/bigdev_minicas
echo "$(date -u +%T) ctrl-s2 start"
results/robust-hearing/s40/arm.sh ctrl-s2 "--set train.seed=2" "--set train.seed=2"
echo "$(date -u +%T) all done"
