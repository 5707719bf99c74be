#!/bin/bash
# dev_unseen for the default's hearing phase + stage 2 at share 0.8: the default's export with the new adapter and
# projector; text and cascade rows seeded from the default's own dev_unseen evaluation (same teacher, same WhisperPro).
set -e
cd /work/main
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
D=runs/s7/ab/s1-ratio08-default; E=runs/s7/ab/eval-s1-ratio08
rm -rf $D $E && cp -r runs/r5/seed1/default $D
cp runs/s7/ab/s1-stage2-ratio08/model/adapter_model.safetensors runs/s7/ab/s1-stage2-ratio08/model/projector.safetensors $D/
.venv/bin/python runs/r5/seed_eval.py $D $E/dev_unseen runs/r5/eval-s1/dev_unseen/responses.jsonl
.venv/bin/textpro eval --bench runs/mini/data --split dev_unseen --model $D --text-model $D/teacher --out $E/dev_unseen
