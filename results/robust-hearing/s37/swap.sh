#!/bin/bash
# Session 37, rule 27 of s30/decision.md: the recipe's 400-step hearing phase with the gender / pitch / rate rows
# reading another clip's learned vector (s35/arm.sh swap), seeds 0 and 1 side by side at one thread each, then each
# checked as rule 22 (alone, 2 threads) with per-voice rows. Resumable (training continues from its checkpoints).
cd "$(dirname "$0")/../../.."
export S=results/robust-hearing/s37 R=runs/s37
for seed in 0 1; do
  THREADS=1 results/robust-hearing/s35/arm.sh swap $seed train > $R/swap-s$seed.driver.log 2>&1 &
  sleep 20  # the first writes the arm's config before the second reads it
done
wait
for seed in 0 1; do
  results/robust-hearing/s35/arm.sh swap $seed || exit 1
  [ -s $R/dumps/swap-s$seed.jsonl ] || OMP_NUM_THREADS=2 .venv/bin/python benchmarks/hearing_check.py \
    $R/swap-s$seed-default runs/s9/feat/bigdev_recipe --dump $R/dumps/swap-s$seed.jsonl > /dev/null 2>&1
done
.venv/bin/python results/robust-hearing/s37/per_voice.py $R/dumps/swap-s{0,1}.jsonl > $S/swap-per-voice.txt
echo "$(date +%T) swap done"
