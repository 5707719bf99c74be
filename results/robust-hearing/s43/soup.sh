#!/bin/bash
# Session 43 (rule 39 of s30/decision.md): the recipe's gate step (runs/mini-cas/configs/slm-gate.yaml) from mini-cas's
# own stage 2 at several seeds, averaged by `textpro soup`, then s39/devcheck.sh's checks (final_checks). Seed 0 is
# mini-cas's own gate step. THREADS=1 trains the missing seeds side by side at one thread each (timed: first start to
# last model, in runs/s43/NAME-train-seconds); THREADS=2 one after the other. Resumable: a finished output is skipped.
#   THREADS=2 soup.sh NAME SEED...  -> runs/s43/gate-sSEED/, runs/s43/NAME-default/, results/robust-hearing/s43/*-NAME*
cd "$(dirname "$0")/../../.."
export S=results/robust-hearing/s43 R=runs/s43 MINI=runs/mini-cas
export TEACHER_ANSWERS=runs/s39/eval-minicas-dev_unseen-bigsem/responses.jsonl  # same teacher, same 300 items
source results/robust-hearing/s34/common.sh
NAME=$1; shift
THREADS=${THREADS:-2}
gate() {  # SEED: the gate step at that seed, at $THREADS threads
  [ -e $R/gate-s$1/model ] || OMP_NUM_THREADS=$THREADS .venv/bin/textpro train slm --stage 2 \
    --config $MINI/configs/slm-gate.yaml --output $R/gate-s$1 --set train.seed=$1 --resume > $R/gate-s$1.log 2>&1
}
start=$(date +%s)
ingredients=()
for seed in "$@"; do
  if [ $seed = 0 ]; then ingredients+=($MINI/default); continue; fi
  if [ $THREADS = 1 ]; then gate $seed & else gate $seed || exit 1; fi
  ingredients+=($R/gate-s$seed-default)
done
wait
[ -e $R/$NAME-train-seconds ] || echo $(( $(date +%s) - start )) > $R/$NAME-train-seconds
for seed in "$@"; do
  [ $seed = 0 ] || export_arm $R/gate-s$seed/model $R/gate-s$seed-default || exit 1
done
[ -e $R/$NAME-default ] || .venv/bin/textpro soup "${ingredients[@]}" --out $R/$NAME-default > $R/$NAME-soup.log 2>&1 \
  || exit 1
echo "$(date +%T) $NAME trained and averaged"
final_checks $R/$NAME-default $NAME runs/s9/feat/bigdev_minicas
