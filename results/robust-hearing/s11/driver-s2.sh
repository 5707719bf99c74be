#!/bin/bash
# Session 11, a third seed of the paired run (seed 2), started at the session's end for the next one to read:
# stage 1 and the hearing phase alone on 2 threads, the stage-2 pair side by side on 1 thread each, then both checks
# and both dev_unseen evals. Resumable: every step is skipped once its output exists.  -> runs/driver-s2.log
cd "$(dirname "$0")/../../.."
S=results/robust-hearing/s11
$S/rebuild.sh stage1 2 2 > runs/s11-stage1-s2.log 2>&1; echo "$(date +%T) stage1 s2 done"
HEARING_THREADS=2 $S/paired.sh 2 1 > runs/s11-s2.log 2>&1; echo "$(date +%T) s2 pair done"
for step in stage2-swap stage2-ctl; do
  [ -e $S/hc-s2-$step-probe.txt ] || $S/check.sh s2/$step 1 > runs/check-s2-$step.log 2>&1 &
done; wait; echo "$(date +%T) checks s2 done"
for step in stage2-swap stage2-ctl; do
  [ -e $S/s2-$step-dev_unseen/results.md ] || $S/eval.sh s2/$step dev_unseen 1 &
done; wait; echo "$(date +%T) ALL DONE"
