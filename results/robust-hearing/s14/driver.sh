#!/bin/bash
# Session 14: does spreading the mini world's men over men's speaking F0 move the gender line up? The mini world's
# male gender clips sit at 88-112 Hz, its female ones from 158 Hz; the default's switch F0 sits at 129 Hz, the middle
# of that empty band, under flite's kal16 (107-126 Hz) and many recorded men. f0s-s7 = the embedded default (nl-s6)
# + 100 steps of its own continuation (s11/cont-yn.yaml, learned_noise 2.0, task_learned_swap 1.0 for gender, pitch,
# rate) with task_f0_shift {gender: {male: [0.0, 0.45]}} (seed 7). Beside it, on the other core: the default's own
# gender switch (the paired baseline) and its `test` record. Resumable.   driver.sh -> runs/s14/driver.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s14 RESULTS=results/robust-hearing/s14 HF_HUB_OFFLINE=1
S=results/robust-hearing/s14
D=src/textpro/assets/default
while pgrep -f "eval.sh nl-s6 test_unseen" > /dev/null; do sleep 30; done
echo "$(date +%T) test_unseen record done"
boundary() { [ -e $S/boundary-$1.md ] || OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gender_boundary.py $2 \
  runs/s9/feat/bigdev_default --sets dev --limit 40 --threads 1 --plot $S/boundary-$1.png > $S/boundary-$1.md.part \
  2> runs/s14/boundary-$1.log && mv $S/boundary-$1.md.part $S/boundary-$1.md; }
(
  boundary nl-s6 $D
  echo "$(date +%T) nl-s6 boundary done"
  [ -e results/robust-hearing/s13/nl-s6-test/results.json ] || LIMIT=100 RUNS=runs/s13 \
    RESULTS=results/robust-hearing/s13 results/robust-hearing/s11/eval.sh nl-s6 test 1
  echo "$(date +%T) nl-s6 test record done"
) &
[ -e runs/s14/f0s-s7/model ] || OMP_NUM_THREADS=1 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s14/f0s-s7 --resume --set train.seed=7 \
  --set train.max_steps=100 --set learned_noise=2.0 \
  --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0}" \
  --set "task_f0_shift={gender: {male: [0.0, 0.45]}}" >> runs/s14/f0s-s7.log 2>&1
echo "$(date +%T) f0s-s7 trained"
[ -e $S/hc-f0s-s7-probe.txt ] || results/robust-hearing/s11/check.sh f0s-s7 1 > runs/s14/check-f0s-s7.log 2>&1
echo "$(date +%T) f0s-s7 own+probe checked"
[ -e $S/hc-f0s-s7-open.txt ] || OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hearing_check.py runs/s14/f0s-s7-default \
  runs/s9/feat/bigdev_default --threads 1 --phrasings results/robust-hearing/s12/open-probe.yaml \
  --dump runs/s14/open-f0s-s7.jsonl 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $S/hc-f0s-s7-open.txt
[ -e $S/recorded-f0s-s7.md ] || OMP_NUM_THREADS=1 .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
  runs/s13/recorded-62.jsonl --model runs/s14/f0s-s7-default --answers runs/s14/recorded-f0s-s7.jsonl \
  --report $S/recorded-f0s-s7.md > runs/s14/recorded-f0s-s7.log 2>&1
echo "$(date +%T) f0s-s7 open + recorded checked"
boundary f0s-s7 runs/s14/f0s-s7-default
wait; echo "$(date +%T) ALL DONE"
