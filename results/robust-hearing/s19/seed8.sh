#!/bin/bash
# Session 19: the shipped default's recipe (bk-s7: session 13's nl-s6 + 100 steps of s11/cont-yn.yaml, paralinguistic
# ratio 0.65, base_kd 1.0, learned_noise 2.0, task_learned_swap 1.0 for gender/pitch/rate) at a second seed (8), for
# the issue's "final SLM stages for >= 2 seeds": dev check, then one record each on test_unseen and test (ledger).
# Resumable.   seed8.sh -> runs/s19/bk-s8*, results/robust-hearing/s19/
cd "$(dirname "$0")/../../.."
export RUNS=runs/s19 RESULTS=results/robust-hearing/s19 HF_HUB_OFFLINE=1
S=results/robust-hearing/s19
N=bk-s8
mkdir -p runs/s19
[ -e runs/s19/$N/model ] || OMP_NUM_THREADS=2 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s19/$N --resume --set train.seed=8 \
  --set train.max_steps=100 --set learned_noise=2.0 --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0}" \
  --set paralinguistic.ratio=0.65 --set base_kd=1.0 >> runs/s19/$N.log 2>&1
echo "$(date +%T) $N trained"
[ -e $S/hc-$N-probe.txt ] || results/robust-hearing/s11/check.sh $N 2 > runs/s19/check-$N.log 2>&1
echo "$(date +%T) $N own+probe checked"
[ -e $S/$N-test_unseen/results.json ] || results/robust-hearing/s11/eval.sh $N test_unseen 2
echo "$(date +%T) $N test_unseen evaluated"
[ -e $S/$N-test/results.json ] || results/robust-hearing/s11/eval.sh $N test 2
echo "$(date +%T) $N test evaluated"
