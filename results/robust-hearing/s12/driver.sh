#!/bin/bash
# Session 12: the open-answer lever, paired at seed 5. Every arm is the embedded default + 50 steps of its own stage 2
# (s11/cont-yn.yaml): ctl-s5 trained with the code before the lever (a worktree of 51e372e on PYTHONPATH); desc-s5
# with open answers naming the speaker's gender after the asked label ("High, a female voice.", commit cf4bf60, the
# first try); voice-s5 with open answers describing the whole voice ("A female voice, high-pitched, speaking
# slowly."; commit 200b34e); pair-s5 with the label and one more trait ("High, a female voice.", "Female, a
# high-pitched voice."). Then, side by side on one thread each: session 10's hearing check (own dev and probe phrasings),
# open-probe.yaml's open-only check, and `textpro eval` on dev_unseen, dev and a 300-question dev_unseen (bigsem.sh).
# Resumable.   driver.sh ARM ARM   -> runs/driver-s12.log, results/robust-hearing/s12/
cd "$(dirname "$0")/../../.."
export RUNS=runs/s12 RESULTS=results/robust-hearing/s12 HF_HUB_OFFLINE=1
S=results/robust-hearing/s12
train() {  # NAME [PYTHONPATH]; waits for a run of NAME already going
  while pgrep -f "output runs/s12/$1 " > /dev/null; do sleep 30; done
  [ -e runs/s12/$1/model ] || OMP_NUM_THREADS=1 PYTHONPATH=$2 .venv/bin/textpro train slm --stage 2 \
    --config results/robust-hearing/s11/cont-yn.yaml --output runs/s12/$1 --resume --set train.seed=5 \
    --set train.max_steps=50 >> runs/s12/$1.log 2>&1
}
[ -d /tmp/ctl ] || git worktree add -f /tmp/ctl 51e372e -q
for m in "$@"; do
  case $m in ctl-s5) train $m /tmp/ctl/src ;; *) train $m ;; esac &
done; wait; echo "$(date +%T) trained"
for m in "$@"; do
  ( [ -e $S/hc-$m-probe.txt ] || results/robust-hearing/s11/check.sh $m 1 > runs/s12/check-$m.log 2>&1
    [ -e $S/hc-$m-open.txt ] || .venv/bin/python benchmarks/hearing_check.py runs/s12/$m-default \
      runs/s9/feat/bigdev_default --threads 1 --phrasings $S/open-probe.yaml --dump runs/s12/open-$m.jsonl 2>&1 |
      grep -E "^(gender|pitch|rate)|  by " > $S/hc-$m-open.txt ) &
done; wait; echo "$(date +%T) checks done"
for split in dev_unseen dev; do
  for m in "$@"; do
    [ -e $S/$m-$split/results.md ] || results/robust-hearing/s11/eval.sh $m $split 1 &
  done; wait; echo "$(date +%T) $split done"
done
for m in "$@"; do
  [ -e $S/$m-dev_unseen-bigsem/results.md ] || BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh $m dev_unseen 1 &
done; wait; echo "$(date +%T) ALL DONE"
