#!/bin/bash
# The candidate chosen on dev (the default's hearing phase + stage 2 at share 0.8): test_unseen and test, in the ledger.
cd /work/main
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
D=runs/s7/ab/s1-ratio08-default; E=runs/s7/ab/eval-s1-ratio08
ev() { .venv/bin/python runs/r5/seed_eval.py $D $E/$1 runs/r5/eval-s1/$1/responses.jsonl
       .venv/bin/textpro eval --bench runs/mini/data --split $1 --model $D --text-model $D/teacher --out $E/$1 --ledger results/ledger.jsonl > $E/$1.log 2>&1; }
ev test_unseen & ev test & wait
