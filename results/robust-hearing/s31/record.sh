#!/bin/bash
# Session 31: rules 12 and 13 of s30/decision.md, applied in order once s30/chain6.sh has finished.
#   rule 12: soupGr (gn-s9 + gn-s10) must meet, on dev: own >= 95, probe >= 90, requests >= 0.6 (same transcript),
#            300 questions mean >= 0 and lower end >= -3, agreement >= 95; then soupG and soupGr are recorded once on
#            test_unseen and test (ledger);
#   rule 13: soupG's recorded-speech guards (>= 130/135 where the F0 rule is right, English >= 88.9) are measured
#            before its test numbers and decide whether it becomes the default; soupGr's are measured, decide nothing.
# Resumable: every step is skipped once its output exists.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 RUNS=runs/s30 RESULTS=results/robust-hearing/s31
S=$RESULTS T=2
while [ ! -e results/robust-hearing/s30/soupGr-dev_unseen-bigsem/results.json ]; do sleep 30; done
.venv/bin/python - <<'PY' || { echo "$(date +%T) rule 12 failed: nothing recorded"; exit 1; }
import sys
from pathlib import Path
sys.path.insert(0, "results/robust-hearing/s22")
from table import dev_checks
c = dev_checks(Path("results/robust-hearing/s30"), "soupGr")
b = c["bootstrap"]
checks = {"own": (sum(c["own"]) / 3, 95.0), "probe": (sum(c["probe"]) / 3, 90.0),
          "requests (same transcript)": (c["requests"][1], 0.6), "speech - cascade": (b["mean_difference"], 0.0),
          "lower end": (b["low"], -3.0), "agreement": (c["agreement"], 95.0)}
print("rule 12, soupGr: " + ", ".join(f"{k} {v:.3g} (>= {floor})" for k, (v, floor) in checks.items()))
sys.exit(0 if all(v >= floor for v, floor in checks.values()) else 1)
PY
echo "$(date +%T) rule 12 passed"
for N in soupG soupGr; do
  [ -s $S/recorded-$N.md ] || OMP_NUM_THREADS=$T .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
    runs/s13/recorded-62.jsonl --model $RUNS/$N-default --answers runs/s31/recorded-$N.jsonl \
    --report $S/recorded-$N.md --threads $T > runs/s31/recorded-$N.log 2>&1
  grep -E "English only|F0 rule is right" $S/recorded-$N.md
done
echo "$(date +%T) recorded done"
for N in soupG soupGr; do for split in test_unseen test; do
  [ -e $S/$N-$split/results.json ] || results/robust-hearing/s11/eval.sh $N $split $T
  echo "$(date +%T) $N $split evaluated"
done; done
echo "$(date +%T) RECORD DONE"
