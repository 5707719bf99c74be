#!/bin/bash
# session 44, rule 44: the last two steps' seeds 0 (mini-cas) and 1 (ctrl-s1) averaged, then final_checks
cd /work/main
export S=results/robust-hearing/s44 R=runs/s44 MINI=runs/mini-cas
export TEACHER_ANSWERS=runs/s39/eval-minicas-dev_unseen-bigsem/responses.jsonl
source results/robust-hearing/s34/common.sh
[ -e $R/soup01-default ] || .venv/bin/textpro soup $MINI/default $R/ctrl-s1-default --out $R/soup01-default \
  > $R/soup01-soup.log 2>&1 || exit 1
echo "$(date -u +%T) soup01 averaged"
final_checks $R/soup01-default soup01 runs/s9/feat/bigdev_minicas
