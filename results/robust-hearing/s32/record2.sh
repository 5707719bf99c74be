#!/bin/bash
# Rule 20 of s30/decision.md, applied once s32/chain2.sh has finished: soupPm4 a candidate (each seed own >= 95 and
# probe >= 90; the soup every dev line)? then its recorded-speech guards (rule 13's), then test_unseen and test
# (ledger). Resumable.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 RUNS=runs/s32 RESULTS=results/robust-hearing/s32
S=$RESULTS T=2 N=soupPm4
while [ ! -e $S/$N-dev_unseen-bigsem/results.json ]; do sleep 30; done
.venv/bin/python - <<'PY' || { echo "$(date +%T) rule 20: soupPm4 is not a candidate, nothing recorded"; exit 1; }
import sys
from pathlib import Path
sys.path.insert(0, "results/robust-hearing/s22")
from table import dev_checks
d = Path("results/robust-hearing/s32")
c = dev_checks(d, "soupPm4")
b = c["bootstrap"]
checks = {"soupPm4 own": (sum(c["own"]) / 3, 95.0), "soupPm4 probe": (sum(c["probe"]) / 3, 90.0),
          "requests (same transcript)": (c["requests"][1], 0.6), "speech - cascade": (b["mean_difference"], 0.0),
          "lower end": (b["low"], -3.0), "agreement": (c["agreement"], 95.0)}
for seed in ("gpm-s9", "gpm-s10", "gpm-s11", "gpm-s12"):
    s = dev_checks(d, seed)
    checks[f"{seed} own"] = (sum(s["own"]) / 3, 95.0)
    checks[f"{seed} probe"] = (sum(s["probe"]) / 3, 90.0)
print("rule 20: " + ", ".join(f"{k} {v:.3g} (>= {floor})" for k, (v, floor) in checks.items()))
sys.exit(0 if all(v >= floor for v, floor in checks.values()) else 1)
PY
echo "$(date +%T) rule 20: soupPm4 is a candidate"
[ -s $S/recorded-$N.md ] || OMP_NUM_THREADS=$T .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
  runs/s13/recorded-62.jsonl --model $RUNS/$N-default --answers $RUNS/recorded-$N.jsonl \
  --report $S/recorded-$N.md --threads $T > $RUNS/recorded-$N.log 2>&1
grep -E "English only|F0 rule is right" $S/recorded-$N.md
.venv/bin/python - $S/recorded-$N.md <<'PY' && echo "$(date +%T) rule 20: guards passed, soupPm4 becomes the default" \
  || echo "$(date +%T) rule 20: guards failed, soupPm4 is recorded, the default stays"
import re, sys
text = open(sys.argv[1]).read()
english = float(re.search(r"\| English only \| ([\d.]+)", text).group(1))
right = int(re.search(r"\| clips where the F0 rule is right \| [\d.]+ \((\d+)/135\)", text).group(1))
print(f"rule 20 guards: English {english} (>= 88.9), F0-rule-right {right}/135 (>= 130)")
sys.exit(0 if english >= 88.9 and right >= 130 else 1)
PY
echo "$(date +%T) recorded done"
for split in test_unseen test; do
  [ -e $S/$N-$split/results.json ] || results/robust-hearing/s11/eval.sh $N $split $T
  echo "$(date +%T) $N $split evaluated"
done
echo "$(date +%T) RECORD DONE"
