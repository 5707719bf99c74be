#!/bin/bash
# wait for the soup50 driver, then: the step benchmark, soupx6's quick checks, seeds 11-12, soup65x6, seeds 13-14, soups
cd /work/main
while pgrep -f "s24/driver.sh soup50" > /dev/null; do sleep 20; done
echo "$(date +%T) soup50 driver done"
HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/slm_step.py runs/s27/mix50-s7/config.yaml --micro-batches 10 --threads 2 \
  --out benchmarks/results/slm_step_s28.json > runs/s28/slm_step.log 2>&1
echo "$(date +%T) step benchmark done"
Q=results/robust-hearing/s28/quick.sh T=results/robust-hearing/s28/train.sh
$Q soupx6 && $T ctl65-s11 && $T ctl65-s12 && $Q soup65x6 && $T ctl65-s13 && $T ctl65-s14 && $Q soup65x8 soup65x4r
