#!/bin/bash
# session 29's CPU queue: wait for soup65x4r's test record, then the fidelity instrument, then the T2 arms
cd /work/main
while ! grep -q test-done runs/s29/record.log; do sleep 20; done
echo "$(date +%T) record done"
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
models=()
for m in runs/s21/bk-s7 runs/s22/hacc85-s7 runs/s24/ctl65-s7 runs/s25/pos-s7 runs/s25/posend-s7 runs/s25/posuser-s7 \
  runs/s26/ctl65-s8 runs/s26/mid75-s7 runs/s26/ph-s7 runs/s26/soup65 runs/s26/soup65b runs/s26/soup65x4 \
  runs/s27/mix50-s7 runs/s27/soup50 runs/s28/soup65c runs/s28/soup65x4r runs/s28/soup65x6 runs/s28/soup65x8 \
  runs/s28/soupx6; do models+=("$(basename $(dirname $m))/$(basename $m)=$m-default"); done
.venv/bin/python results/robust-hearing/s29/fidelity.py runs/s26/requests-soup65x4.jsonl runs/s29/fidelity.jsonl \
  "${models[@]}" > runs/s29/fidelity.log 2>&1
echo "$(date +%T) fidelity done"
SESSION=s29 results/robust-hearing/s28/quick.sh T2-s7 T2-s8 soupT2
.venv/bin/python results/robust-hearing/s29/fidelity.py runs/s26/requests-soup65x4.jsonl runs/s29/fidelity.jsonl \
  s29/T2-s7=runs/s29/T2-s7-default s29/T2-s8=runs/s29/T2-s8-default s29/soupT2=runs/s29/soupT2-default \
  >> runs/s29/fidelity.log 2>&1
echo "$(date +%T) CHAIN DONE"
