#!/bin/bash
# After lf1's export: lane A = dev_unseen then test; lane B = test_unseen (both logged in the ledger).
# Text-LLM and cascade rows are seeded from session 5's seed-1 evaluations: same teacher, same WhisperPro.
cd /work/main
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
M=runs/s7/lf1/default; E=runs/s7/eval-lf1; O=runs/r5/eval-s1
while [ ! -f runs/s7/lf1/done/export.json ]; do sleep 15; done
for s in dev_unseen test test_unseen; do .venv/bin/python runs/r5/seed_eval.py $M $E/$s $O/$s/responses.jsonl; done
ev() { .venv/bin/textpro eval --bench runs/mini/data --split $1 --model $M --text-model $M/teacher --out $E/$1 $2 > $E/$1.log 2>&1; }
( ev dev_unseen; ev test "--ledger results/ledger.jsonl" ) &
sleep 600  # lane B after the fast hearing checks (lf1-stage2.sh)
ev test_unseen "--ledger results/ledger.jsonl"
wait
touch $E/done
