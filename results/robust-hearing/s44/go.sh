#!/bin/bash
# session 44, rule 42: ctrl-s1 then s2mv-s1, each alone on the machine (after the fresh-clone make test)
cd /work/main
while ! grep -q '^real' /tmp/fresh4.log; do sleep 20; done
export S=results/robust-hearing/s44 R=runs/s44 MINI=runs/mini-cas
export TEACHER_ANSWERS=runs/s39/eval-minicas-dev_unseen-bigsem/responses.jsonl FEATURES=runs/s9/feat/bigdev_minicas
echo "$(date -u +%T) ctrl-s1 start"
results/robust-hearing/s40/arm.sh ctrl-s1 "--set train.seed=1" "--set train.seed=1"
echo "$(date -u +%T) s2mv-s1 start"
results/robust-hearing/s40/arm.sh s2mv-s1 "--set train.seed=1 --set mean_voice_kl=1.0" "--set train.seed=1 --set mean_voice_kl=1.0"
echo "$(date -u +%T) all done"
