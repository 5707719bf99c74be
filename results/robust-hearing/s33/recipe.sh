#!/bin/bash
# Session 33: one uninterrupted `make mini` (the recipe with its new last phase, slm-gate) from an empty output
# directory, through export, the machine's load logged once a minute beside it (s6/loadlog.sh). Then the step
# timings are copied here. The eval step (test records, ~35 min) is not part of the timing, as in session 6.
#   recipe.sh  -> runs/mini, results/robust-hearing/s33/{recipe-load.log,recipe-summary.md,recipe-time.txt}
#   OUT=runs/mini400 S=results/robust-hearing/s35 recipe.sh   (a later session's run: its own directories)
cd "$(dirname "$0")/../../.."
S=${S:-results/robust-hearing/s33} OUT=${OUT:-runs/mini}
[ -e $OUT ] && [ -n "$(ls -A $OUT)" ] && { echo "$OUT is not empty" >&2; exit 1; }
results/robust-hearing/s6/loadlog.sh > $S/recipe-load.log &
logger=$!
start=$(date +%s)
OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false .venv/bin/textpro recipe mini --out $OUT \
  --until export
rc=$?
kill $logger
echo "rc $rc, $(( ($(date +%s) - start) )) s wall clock, started $(date -d @$start +%FT%T)" > $S/recipe-time.txt
cp $OUT/summary.md $S/recipe-summary.md 2>/dev/null
cat $S/recipe-time.txt
