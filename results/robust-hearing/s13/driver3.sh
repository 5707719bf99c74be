#!/bin/bash
# Session 13, third lever: task_learned_swap (gender, pitch and rate rows always read another clip's learned vector;
# accent and style keep learned_swap 0.95), lt-s6 = the default + 50 steps of s11/cont-yn.yaml at seed 6 with it,
# beside the 300-question dev_unseen of sw1-s6; then lt-s6's hearing checks, the recorded-speech set (the first 62
# clips) and the gender switch F0. Resumable.   driver3.sh   -> runs/driver-s13d.log, results/robust-hearing/s13/
cd "$(dirname "$0")/../../.."
export RUNS=runs/s13 RESULTS=results/robust-hearing/s13 HF_HUB_OFFLINE=1
S=results/robust-hearing/s13
MANIFEST=runs/s13/recorded-62.jsonl
LT='task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0}'
while pgrep -f "gender_boundary.py" > /dev/null; do sleep 20; done; echo "$(date +%T) boundaries done"
[ -e runs/s13/lt-s6/model ] || OMP_NUM_THREADS=1 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s13/lt-s6 --resume --set train.seed=6 \
  --set train.max_steps=50 --set "$LT" >> runs/s13/lt-s6.log 2>&1 &
[ -e $S/sw1-s6-dev_unseen-bigsem/results.md ] || BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh sw1-s6 dev_unseen 1 &
wait; echo "$(date +%T) lt-s6 trained, sw1-s6 bigsem done"
[ -e $S/hc-lt-s6-probe.txt ] || results/robust-hearing/s11/check.sh lt-s6 2 > runs/s13/check-lt-s6.log 2>&1
[ -e $S/hc-lt-s6-open.txt ] || .venv/bin/python benchmarks/hearing_check.py runs/s13/lt-s6-default \
  runs/s9/feat/bigdev_default --threads 1 --phrasings results/robust-hearing/s12/open-probe.yaml \
  --dump runs/s13/open-lt-s6.jsonl 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $S/hc-lt-s6-open.txt &
for b in "" learned; do
  [ -e $S/recorded-lt-s6${b:+-mean-$b}.md ] || OMP_NUM_THREADS=1 .venv/bin/python benchmarks/recorded_gender.py run \
    /tmp/recorded $MANIFEST --model runs/s13/lt-s6-default ${b:+--branch $b} \
    --answers runs/s13/recorded-lt-s6${b:+-$b}.jsonl --report $S/recorded-lt-s6${b:+-mean-$b}.md > /dev/null 2>&1
done; wait; echo "$(date +%T) ALL DONE"
