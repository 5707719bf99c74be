#!/bin/bash
# Session 18 on a fresh machine: rebuild the inputs, retrain bk-s7 (session 16's recipe: the default + 100 steps,
# paralinguistic ratio 0.65, base_kd 1.0, seed 7; a retrain is not bit-identical across machines) and check the
# retrained weights before they become the embedded default: own/probe hearing check, recorded-speech gender, the
# 300-question dev_unseen content check with session 17's guard (speech − cascade ≥ −1.0, agreement ≥ 89%), then one
# record on test_unseen and test (ledger lines). Resumable.   driver.sh -> runs/s18/, runs/s18/driver.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s18 RESULTS=results/robust-hearing/s18 HF_HUB_OFFLINE=1
S=results/robust-hearing/s18
N=bk-s7
mkdir -p runs/s18 runs/s13
[ -e runs/s9/features/distill.jsonl ] && [ -e runs/s9/feat/bigdev_default ] || results/robust-hearing/s11/rebuild.sh inputs > runs/s18/rebuild.log 2>&1
echo "$(date +%T) inputs rebuilt"
[ -e runs/s18/$N/model ] || OMP_NUM_THREADS=2 .venv/bin/textpro train slm --stage 2 \
  --config results/robust-hearing/s11/cont-yn.yaml --output runs/s18/$N --resume --set train.seed=7 \
  --set train.max_steps=100 --set learned_noise=2.0 --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0}" \
  --set paralinguistic.ratio=0.65 --set base_kd=1.0 >> runs/s18/$N.log 2>&1
echo "$(date +%T) $N trained"
[ -e $S/hc-$N-probe.txt ] || results/robust-hearing/s11/check.sh $N 2 > runs/s18/check-$N.log 2>&1
echo "$(date +%T) $N own+probe checked"
while pgrep -f recorded_setup > /dev/null; do sleep 10; done
[ -e /tmp/recorded/clips16k ] || .venv/bin/python benchmarks/recorded_gender.py build /tmp/recorded \
  results/recorded-speech/manifest.jsonl > runs/s18/recorded-build.log 2>&1
[ -e runs/s13/recorded-62.jsonl ] || grep -v -e '"asterisk-prompt-fr-armelle"' -e '"asterisk-prompt-es-co"' \
  results/recorded-speech/manifest.jsonl > runs/s13/recorded-62.jsonl
[ -e $S/recorded-$N.md ] || OMP_NUM_THREADS=2 .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
  runs/s13/recorded-62.jsonl --model runs/s18/$N-default --answers runs/s18/recorded-$N.jsonl \
  --report $S/recorded-$N.md --threads 2 > runs/s18/recorded-$N.log 2>&1
echo "$(date +%T) $N recorded checked"
[ -e runs/s12/bigsem/dev_unseen.jsonl ] || results/robust-hearing/s12/bigsem.sh > runs/s18/bigsem.log 2>&1
echo "$(date +%T) bigsem built"
[ -e $S/$N-dev_unseen-bigsem/results.json ] || BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh $N dev_unseen 2
echo "$(date +%T) $N bigsem evaluated"
.venv/bin/python - "$S/$N-dev_unseen-bigsem/results.json" <<'PY' || { echo "$(date +%T) content guard failed: no test record"; exit 0; }
import json, sys
r = json.load(open(sys.argv[1]))
diff, agreement = r["bootstrap"]["mean_difference"], r["average"]["agreement"]
print(f"speech - cascade {diff:+.1f}, agreement {agreement:.1f}")
sys.exit(0 if diff >= -1.0 and agreement >= 89.0 else 1)
PY
[ -e $S/$N-test_unseen/results.json ] || results/robust-hearing/s11/eval.sh $N test_unseen 2
echo "$(date +%T) $N test_unseen evaluated"
[ -e $S/$N-test/results.json ] || results/robust-hearing/s11/eval.sh $N test 2
echo "$(date +%T) $N test evaluated"
echo "$(date +%T) ALL DONE"
