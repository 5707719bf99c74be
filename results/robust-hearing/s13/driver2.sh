#!/bin/bash
# Session 13, second lever: task_acoustics (a gender row reads its own F0 and every other acoustic of another clip;
# pitch: F0; rate: rate and pauses), ta-s6 = the default + 50 steps of s11/cont-yn.yaml at seed 6 with it, paired
# with ctl-s6 (driver.sh; the same seed draws the same learned swaps). Then: the hearing checks (own dev, probe,
# open-only), the recorded-speech gender set (benchmarks/recorded_gender.py, /tmp/recorded), the gender switch F0
# (benchmarks/gender_boundary.py, 40 clips, dev phrasings) and the 300-question dev_unseen. Resumable.
#   driver2.sh   -> runs/driver-s13c.log, results/robust-hearing/s13/
cd "$(dirname "$0")/../../.."
export RUNS=runs/s13 RESULTS=results/robust-hearing/s13 HF_HUB_OFFLINE=1
S=results/robust-hearing/s13
MANIFEST=runs/s13/recorded-62.jsonl  # the first 62-clip set (results/recorded-speech grows)
TA='task_acoustics={gender: [f0_median_oct], pitch: [f0_median_oct], rate: [rate_log2, pause_ratio]}'
while pgrep -f "s11/check.sh" > /dev/null; do sleep 20; done; echo "$(date +%T) probe checks done"
while pgrep -f "output runs/s13/ta-s6 " > /dev/null; do sleep 20; done  # a run of it already going
[ -e runs/s13/ta-s6/model ] || OMP_NUM_THREADS=2 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s13/ta-s6 --resume --set train.seed=6 \
  --set train.max_steps=50 --set "$TA" >> runs/s13/ta-s6.log 2>&1; echo "$(date +%T) ta-s6 trained"
open_check() { [ -e $S/hc-$1-open.txt ] || .venv/bin/python benchmarks/hearing_check.py runs/s13/$1-default \
  runs/s9/feat/bigdev_default --threads 1 --phrasings results/robust-hearing/s12/open-probe.yaml \
  --dump runs/s13/open-$1.jsonl 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $S/hc-$1-open.txt; }
recorded() { [ -e $S/recorded-$1.md ] || OMP_NUM_THREADS=1 .venv/bin/python benchmarks/recorded_gender.py run \
  /tmp/recorded $MANIFEST --model $2 --answers runs/s13/recorded-$1.jsonl \
  --report $S/recorded-$1.md > runs/s13/recorded-$1.log 2>&1; }
boundary() { [ -e $S/boundary-$1.md ] || OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gender_boundary.py $2 \
  runs/s9/feat/bigdev_default --sets dev --limit 40 --plot $S/boundary-$1.png 2>/dev/null > $S/boundary-$1.md; }
( [ -e $S/hc-ta-s6-probe.txt ] || results/robust-hearing/s11/check.sh ta-s6 1 > runs/s13/check-ta-s6.log 2>&1
  open_check ta-s6; recorded ta-s6 runs/s13/ta-s6-default; boundary ta-s6 runs/s13/ta-s6-default ) &
( open_check ctl-s6; open_check sw1-s6; recorded ctl-s5 src/textpro/assets/default
  recorded ctl-s6 runs/s13/ctl-s6-default; boundary ctl-s5 src/textpro/assets/default ) &
wait; echo "$(date +%T) checks done"
for m in ta-s6 sw1-s6; do
  [ -e $S/$m-dev_unseen-bigsem/results.md ] || BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh $m dev_unseen 1 &
done; wait; echo "$(date +%T) bigsem done"
( boundary ctl-s6 runs/s13/ctl-s6-default; recorded sw1-s6 runs/s13/sw1-s6-default ) &
[ -e $S/ctl-s6-dev_unseen-bigsem/results.md ] || BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh ctl-s6 dev_unseen 1 &
wait; echo "$(date +%T) ALL DONE"
