#!/bin/bash
# Session 17: accent rows that read their own learned WhisperPro vector. Accent is the one task with no measured
# acoustic cue, yet every accent row read the learned vector's mean (hearing phase, branch dropout 0.95) or another
# clip's vector (stage 2, learned_swap 0.95). ac-s7 = session 16's bk-s7 (the default + 100 steps, paralinguistic
# ratio 0.65, base_kd 1.0, seed 7) with task_learned_swap accent 0.0: a paired ablation. Then the own/probe hearing
# check, recorded-speech gender, the 53 dev_unseen requests. Resumable.   driver.sh -> runs/s17/, driver.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s17 RESULTS=results/robust-hearing/s17 HF_HUB_OFFLINE=1
S=results/robust-hearing/s17
N=ac-s7
[ -e runs/s17/$N/model ] || OMP_NUM_THREADS=2 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s17/$N --resume --set train.seed=7 \
  --set train.max_steps=100 --set learned_noise=2.0 \
  --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0, accent: 0.0}" \
  --set paralinguistic.ratio=0.65 --set base_kd=1.0 >> runs/s17/$N.log 2>&1
echo "$(date +%T) $N trained"
[ -e $S/hc-$N-probe.txt ] || results/robust-hearing/s11/check.sh $N 2 > runs/s17/check-$N.log 2>&1
echo "$(date +%T) $N own+probe checked"
[ -e $S/recorded-$N.md ] || OMP_NUM_THREADS=2 .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
  runs/s13/recorded-62.jsonl --model runs/s17/$N-default --answers runs/s17/recorded-$N.jsonl \
  --report $S/recorded-$N.md --threads 2 > runs/s17/recorded-$N.log 2>&1
echo "$(date +%T) $N recorded checked"
[ -e $S/requests-$N.txt ] || OMP_NUM_THREADS=2 .venv/bin/python results/robust-hearing/s15/request_diag.py \
  runs/s17/$N-default runs/s15/bigreq dev_unseen --jsonl runs/s17/requests-$N.jsonl 2>/dev/null > $S/requests-$N.txt
echo "$(date +%T) $N requests checked"
echo "$(date +%T) ALL DONE"
