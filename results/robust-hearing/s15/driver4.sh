#!/bin/bash
# Session 15: a second seed of the lead r65 (the default + 100 steps with paralinguistic ratio 0.65, seed 8) with its
# own/probe and recorded checks. Resumable.   driver4.sh -> runs/s15/r65-s8, runs/s15/driver4.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s15 RESULTS=results/robust-hearing/s15 HF_HUB_OFFLINE=1
S=results/robust-hearing/s15 N=r65-s8
[ -e runs/s15/$N/model ] || OMP_NUM_THREADS=2 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s15/$N --resume --set train.seed=8 \
  --set train.max_steps=100 --set learned_noise=2.0 --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0}" \
  --set paralinguistic.ratio=0.65 >> runs/s15/$N.log 2>&1
echo "$(date +%T) $N trained"
[ -e $S/hc-$N-probe.txt ] || results/robust-hearing/s11/check.sh $N 2 > runs/s15/check-$N.log 2>&1
echo "$(date +%T) $N own+probe checked"
[ -e $S/recorded-$N.md ] || OMP_NUM_THREADS=2 .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
  runs/s13/recorded-62.jsonl --model runs/s15/$N-default --answers runs/s15/recorded-$N.jsonl \
  --report $S/recorded-$N.md --threads 2 > runs/s15/recorded-$N.log 2>&1
echo "$(date +%T) ALL DONE"
