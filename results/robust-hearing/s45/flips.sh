#!/bin/bash
# Session 45: session 44's flip_path.py on the rule-46/47 seed-1 arms (where along the way to the mean voice, and through
# which branch, do their disagreeing answers flip?), beside ctrl-s1's s44/flip_path-ctrl-s1.txt.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
for a in cam-s1 pull-s1; do
  [ -s results/robust-hearing/s45/flip_path-$a.txt ] || .venv/bin/python results/robust-hearing/s44/flip_path.py \
    runs/s45/$a-default runs/s45/eval-$a-dev_unseen-bigsem/responses.jsonl \
    > results/robust-hearing/s45/flip_path-$a.txt 2> runs/s45/flip_path-$a.log
  echo "$(date -u +%T) $a done"
done
