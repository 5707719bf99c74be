#!/bin/bash
# session 11 driver: both seeds' stage 1 and hearing side by side (1 thread each; stage 1 and the hearing phase do not
# read the distillation targets), then seed 0's stage-2 pair, then seed 1's beside seed 0's checks
cd "$(dirname "$0")/../../.."
S=results/robust-hearing/s11
for s in 0 1; do
  ( $S/rebuild.sh stage1 $s 1 > runs/s11-stage1-s$s.log 2>&1; echo "$(date +%T) stage1 s$s done"
    R=runs/s11/s$s; mkdir -p $R
    $S/paired.sh $s 1 hearing > runs/s11-hearing-s$s.log 2>&1
    echo "$(date +%T) hearing s$s done: $(ls $R/hearing)" ) &
done
wait
while [ ! -e runs/s11/base/done/distill.json ]; do sleep 20; done
echo "$(date +%T) distill done"
$S/paired.sh 0 1 > runs/s11-s0.log 2>&1
echo "$(date +%T) s0 pair done"
$S/paired.sh 1 1 > runs/s11-s1.log 2>&1 &
for step in stage2-swap stage2-ctl; do $S/check.sh s0/$step 1 > runs/check-s0-$step.log 2>&1; echo "$(date +%T) check s0 $step"; done
wait
echo "$(date +%T) s1 pair done"
for step in stage2-swap stage2-ctl; do $S/check.sh s1/$step 1 > runs/check-s1-$step.log 2>&1 & done; wait
echo "$(date +%T) checks s1 done"
for s in 0 1; do $S/check.sh s$s/hearing 1 > runs/check-s$s-hearing.log 2>&1 & done; wait
echo "$(date +%T) ALL DONE"
