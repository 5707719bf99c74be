#!/bin/bash
# Session 13, for the next session: do more steps undo the learned vector's pull on recorded voices? nl-s6 = the
# default + 150 steps of s11/cont-yn.yaml at seed 6 with learned_noise 2.0 and task_learned_swap 1.0 for gender,
# pitch and rate (the two levers together, three times the steps), then its hearing checks and the recorded-speech
# set (the first 62 clips). Resumable.   driver5.sh   -> runs/driver-s13f.log, results/robust-hearing/s13/
cd "$(dirname "$0")/../../.."
export RUNS=runs/s13 RESULTS=results/robust-hearing/s13 HF_HUB_OFFLINE=1
S=results/robust-hearing/s13
[ -e runs/s13/nl-s6/model ] || OMP_NUM_THREADS=2 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s13/nl-s6 --resume --set train.seed=6 \
  --set train.max_steps=150 --set learned_noise=2.0 \
  --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0}" >> runs/s13/nl-s6.log 2>&1
echo "$(date +%T) nl-s6 trained"
[ -e $S/hc-nl-s6-probe.txt ] || results/robust-hearing/s11/check.sh nl-s6 2 > runs/s13/check-nl-s6.log 2>&1
[ -e $S/hc-nl-s6-open.txt ] || .venv/bin/python benchmarks/hearing_check.py runs/s13/nl-s6-default \
  runs/s9/feat/bigdev_default --threads 1 --phrasings results/robust-hearing/s12/open-probe.yaml \
  --dump runs/s13/open-nl-s6.jsonl 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $S/hc-nl-s6-open.txt &
[ -e $S/recorded-nl-s6.md ] || OMP_NUM_THREADS=1 .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
  runs/s13/recorded-62.jsonl --model runs/s13/nl-s6-default --answers runs/s13/recorded-nl-s6.jsonl \
  --report $S/recorded-nl-s6.md > /dev/null 2>&1
wait; echo "$(date +%T) ALL DONE"
