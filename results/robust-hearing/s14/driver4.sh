#!/bin/bash
# Session 14: a second seed of the embedded default's last step. nl-s8 = session 12's model (runs/s12/ctl-s5-default,
# the embedded default before session 13) + 150 steps of s11/cont-yn.yaml with learned_noise 2.0 and task_learned_swap
# 1.0 for gender, pitch and rate, exactly as nl-s6 (s13/driver5.sh) but seed 8: is nl-s6's recorded-speech behaviour
# (every recorded woman right on all three questions) the recipe's or one seed's? Starts when driver3.sh is done.
#   driver4.sh -> runs/s14/driver4.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s14 RESULTS=results/robust-hearing/s14 HF_HUB_OFFLINE=1
S=results/robust-hearing/s14
while ! grep -q "ALL DONE" runs/s14/driver3.log; do sleep 20; done
[ -e runs/s14/nl-s8/model ] || OMP_NUM_THREADS=2 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s14/nl-s8 --resume --set train.seed=8 \
  --set init_from=runs/s12/ctl-s5-default --set train.max_steps=150 --set learned_noise=2.0 \
  --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0}" >> runs/s14/nl-s8.log 2>&1
echo "$(date +%T) nl-s8 trained"
[ -e $S/hc-nl-s8-probe.txt ] || results/robust-hearing/s11/check.sh nl-s8 2 > runs/s14/check-nl-s8.log 2>&1
[ -e $S/recorded-nl-s8.md ] || OMP_NUM_THREADS=2 .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
  runs/s13/recorded-62.jsonl --model runs/s14/nl-s8-default --answers runs/s14/recorded-nl-s8.jsonl \
  --report $S/recorded-nl-s8.md --threads 2 > runs/s14/recorded-nl-s8.log 2>&1
wait; echo "$(date +%T) ALL DONE"
