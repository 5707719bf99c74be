#!/bin/bash
# textpro eval on dev_unseen for a stage-2 variant of r6: r6's export with the variant's adapter and projector.
# Usage: runs/s7/eval-variant.sh NAME (runs/s7/ab/stage2-NAME/model)
set -e
cd /work/main
export OMP_NUM_THREADS=${THREADS:-1} HF_HUB_OFFLINE=1
V=$1; D=runs/s7/ab/$V-default; E=runs/s7/ab/eval-$V
rm -rf $D && cp -r runs/r6/mini/default $D
cp runs/s7/ab/stage2-$V/model/adapter_model.safetensors runs/s7/ab/stage2-$V/model/projector.safetensors $D/
.venv/bin/python -c "
from pathlib import Path
from textpro.recipe.measure import seed_text_responses
print(seed_text_responses(Path('runs/r5'), 'dev_unseen', Path('$E/dev_unseen')))"
.venv/bin/textpro eval --bench runs/r6/mini/data --split dev_unseen --model $D --text-model $D/teacher --out $E/dev_unseen
