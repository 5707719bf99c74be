#!/bin/bash
# Session 14, the paired control: ctl-s7 = the embedded default (nl-s6) + 100 steps of its own continuation, nothing
# new (seed 7, as driver.sh's f0s-s7 and driver2.sh's ta-s7), so that an arm's change can be told from what 100 more
# steps do alone (f0s-s7 brought back "Male, so yes." to "Is this voice male?" on recorded women). Resumable.
#   driver3.sh -> runs/s14/driver3.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s14 RESULTS=results/robust-hearing/s14 HF_HUB_OFFLINE=1
S=results/robust-hearing/s14
[ -e runs/s14/ctl-s7/model ] || OMP_NUM_THREADS=1 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s14/ctl-s7 --resume --set train.seed=7 \
  --set train.max_steps=100 --set learned_noise=2.0 \
  --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0}" >> runs/s14/ctl-s7.log 2>&1
echo "$(date +%T) ctl-s7 trained"
[ -e $S/recorded-ctl-s7.md ] || { results/robust-hearing/s11/check.sh ctl-s7 1 > runs/s14/check-ctl-s7.log 2>&1 &&
  OMP_NUM_THREADS=1 .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
  runs/s13/recorded-62.jsonl --model runs/s14/ctl-s7-default --answers runs/s14/recorded-ctl-s7.jsonl \
  --report $S/recorded-ctl-s7.md > runs/s14/recorded-ctl-s7.log 2>&1; }
echo "$(date +%T) ctl-s7 own+probe and recorded checked"
[ -e $S/hc-ctl-s7-open.txt ] || OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hearing_check.py runs/s14/ctl-s7-default \
  runs/s9/feat/bigdev_default --threads 1 --phrasings results/robust-hearing/s12/open-probe.yaml \
  --dump runs/s14/open-ctl-s7.jsonl 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $S/hc-ctl-s7-open.txt
echo "$(date +%T) ALL DONE"
