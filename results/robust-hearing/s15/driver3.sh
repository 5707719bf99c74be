#!/bin/bash
# Session 15, the ablation of wd65: r65-s7 = the default + 100 steps with the paralinguistic ratio 0.65 and no
# written prompts (seed 7): is wd65's agreement gain the written prompts' or only the larger content share?
# Starts when driver2.sh is done; two threads.   driver3.sh -> runs/s15/r65-s7, runs/s15/driver3.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s15 RESULTS=results/robust-hearing/s15 HF_HUB_OFFLINE=1
S=results/robust-hearing/s15 N=r65-s7
while ! grep -q "ALL DONE" runs/s15/driver2.log; do sleep 20; done
[ -e runs/s15/$N/model ] || OMP_NUM_THREADS=2 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s15/$N --resume --set train.seed=7 \
  --set train.max_steps=100 --set learned_noise=2.0 --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0}" \
  --set paralinguistic.ratio=0.65 >> runs/s15/$N.log 2>&1
echo "$(date +%T) $N trained"
[ -e $S/hc-$N-probe.txt ] || results/robust-hearing/s11/check.sh $N 2 > runs/s15/check-$N.log 2>&1
echo "$(date +%T) $N own+probe checked"
[ -e $S/requests-$N.txt ] || OMP_NUM_THREADS=2 .venv/bin/python results/robust-hearing/s15/request_diag.py \
  runs/s15/$N-default runs/s15/bigreq dev_unseen --jsonl runs/s15/requests-$N.jsonl 2>/dev/null > $S/requests-$N.txt
echo "$(date +%T) $N requests checked"
BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh $N dev_unseen 2
echo "$(date +%T) ALL DONE"
