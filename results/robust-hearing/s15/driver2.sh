#!/bin/bash
# Session 15, a bound rather than a candidate: co-s7 = the embedded default + 40 steps of content rows only (started as 80, cut to 40 at step 10 for time: the schedule from step 10 is the 40-step one) (the
# spoken-question and request targets plus the 905 written prompts; no paralinguistic row), seed 7. How close can
# content training bring the open answers to the text LLM's at all? Starts when driver.sh's two arms are done.
#   driver2.sh -> runs/s15/co-s7, runs/s15/driver2.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s15 RESULTS=results/robust-hearing/s15 HF_HUB_OFFLINE=1
S=results/robust-hearing/s15 N=co-s7
while ! grep -q "ALL DONE" runs/s15/driver-wd.log || ! grep -q "ALL DONE" runs/s15/driver-wd65.log; do sleep 20; done
[ -e runs/s15/$N/model ] || OMP_NUM_THREADS=2 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s15/$N --resume --set train.seed=7 \
  --set train.max_steps=40 --set learned_noise=2.0 --set use_paralinguistic=false \
  --set text_distill=runs/s15/written.jsonl >> runs/s15/$N.log 2>&1
echo "$(date +%T) $N trained"
[ -e runs/s15/$N-default ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('runs/s15/$N/model', 'src/textpro/assets/default/teacher', 'src/textpro/assets/default/whisperpro', 'runs/mini/data', \
'runs/s15/$N-default')" > /dev/null
[ -e $S/requests-$N.txt ] || OMP_NUM_THREADS=2 .venv/bin/python results/robust-hearing/s15/request_diag.py \
  runs/s15/$N-default runs/s15/bigreq dev_unseen --jsonl runs/s15/requests-$N.jsonl 2>/dev/null > $S/requests-$N.txt
echo "$(date +%T) ALL DONE"
