#!/bin/bash
# Session 15: written-prompt distillation (`text_distill`, 905 teacher answers to data/chat_prompts.py) as a 100-step
# continuation of the embedded default (nl-s6), paired with session 14's control ctl-s7 (same recipe, seed 7, nothing
# new). ARM wd: the content rows' share as before (paralinguistic ratio 0.8); ARM wd65: ratio 0.65 (more content rows
# per step). Resumable; one thread each, the two arms side by side.
#   driver.sh ARM RATIO -> runs/s15/ARM-s7, runs/s15/driver-ARM.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s15 RESULTS=results/robust-hearing/s15 HF_HUB_OFFLINE=1
S=results/robust-hearing/s15 N=$1-s7
[ -e runs/s15/$N/model ] || OMP_NUM_THREADS=1 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s15/$N --resume --set train.seed=7 \
  --set train.max_steps=100 --set learned_noise=2.0 --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0}" \
  --set text_distill=runs/s15/written.jsonl --set paralinguistic.ratio=$2 >> runs/s15/$N.log 2>&1
echo "$(date +%T) $N trained"
[ -e $S/hc-$N-probe.txt ] || results/robust-hearing/s11/check.sh $N 1 > runs/s15/check-$N.log 2>&1
echo "$(date +%T) $N own+probe checked"
[ -e $S/requests-$N.txt ] || OMP_NUM_THREADS=1 .venv/bin/python results/robust-hearing/s15/request_diag.py \
  runs/s15/$N-default runs/s15/bigreq dev_unseen --jsonl runs/s15/requests-$N.jsonl 2>/dev/null > $S/requests-$N.txt
echo "$(date +%T) $N requests checked"
BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh $N dev_unseen 1
echo "$(date +%T) ALL DONE"
