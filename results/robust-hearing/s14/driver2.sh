#!/bin/bash
# Session 14, second arm: on recorded morig (a 112 Hz man the default calls female on both yes/no questions) the
# measured voiced_ratio (0.93, training mean 0.68) and the learned vector pull the answer to female; with either at
# its training mean the answer is male (/tmp/diag.py, results/robust-hearing.md session 14). ta-s7 = the embedded
# default (nl-s6) + 100 steps of its own continuation (as driver.sh's arm, seed 7) with task_acoustics {gender:
# [f0_median_oct]}: a gender row reads its own F0 and the other five acoustics of another clip. Starts when the
# default's test record (driver.sh) is done. Resumable.   driver2.sh -> runs/s14/driver2.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s14 RESULTS=results/robust-hearing/s14 HF_HUB_OFFLINE=1
S=results/robust-hearing/s14
while pgrep -f "eval.sh nl-s6 test 1" > /dev/null || [ ! -e results/robust-hearing/s13/nl-s6-test/results.json ]; do
  sleep 30; done
echo "$(date +%T) test record done"
[ -e runs/s14/ta-s7/model ] || OMP_NUM_THREADS=1 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s14/ta-s7 --resume --set train.seed=7 \
  --set train.max_steps=100 --set learned_noise=2.0 \
  --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0}" \
  --set "task_acoustics={gender: [f0_median_oct]}" >> runs/s14/ta-s7.log 2>&1
echo "$(date +%T) ta-s7 trained"
[ -e $S/hc-ta-s7-probe.txt ] || results/robust-hearing/s11/check.sh ta-s7 1 > runs/s14/check-ta-s7.log 2>&1
echo "$(date +%T) ta-s7 own+probe checked"
[ -e $S/recorded-ta-s7.md ] || OMP_NUM_THREADS=1 .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
  runs/s13/recorded-62.jsonl --model runs/s14/ta-s7-default --answers runs/s14/recorded-ta-s7.jsonl \
  --report $S/recorded-ta-s7.md > runs/s14/recorded-ta-s7.log 2>&1
[ -e $S/hc-ta-s7-open.txt ] || OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hearing_check.py runs/s14/ta-s7-default \
  runs/s9/feat/bigdev_default --threads 1 --phrasings results/robust-hearing/s12/open-probe.yaml \
  --dump runs/s14/open-ta-s7.jsonl 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $S/hc-ta-s7-open.txt
echo "$(date +%T) ta-s7 recorded + open checked"
[ -e $S/boundary-ta-s7.md ] || OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gender_boundary.py runs/s14/ta-s7-default \
  runs/s9/feat/bigdev_default --sets dev --limit 40 --threads 1 --plot $S/boundary-ta-s7.png \
  > $S/boundary-ta-s7.md.part 2> runs/s14/boundary-ta-s7.log && mv $S/boundary-ta-s7.md.part $S/boundary-ta-s7.md
echo "$(date +%T) ALL DONE"
