#!/bin/bash
# Session 11: export a runs/s11 model like the embedded default (float16 adapter and projector, the default's teacher and
# WhisperPro) and run session 10's hearing check on it (the 360-clip dev_unseen, own dev and held-out probe phrasings).
#   check.sh NAME [THREADS]    NAME: sSEED/{hearing,stage2-ctl,stage2-swap} or cont-yn-sSEED ($R/NAME/model)
#   -> $R/NAME-default, $S/hc-TAG{,-probe}.txt (TAG: NAME with / as -)
set -e
cd "$(dirname "$0")/../../.."
R=${RUNS:-runs/s11} S=${RESULTS:-results/robust-hearing/s11}  # another session's runs and results: RUNS=… RESULTS=…
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${2:-1}
D=src/textpro/assets/default
M=$R/$1
tag=${1//\//-}
[ -e $M-default ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('$M/model', '$D/teacher', '$D/whisperpro', 'runs/mini/data', '$M-default')" > /dev/null
results/robust-hearing/s10/check.sh $M-default $tag ${2:-1}
mv results/robust-hearing/s10/hc-$tag{,-probe}.txt $S/
