#!/bin/bash
# Rule 20 of s30/decision.md: gpm-s11, then gpm-s12 (only if gpm-s11 meets its per-seed lines), quick checks on each,
# then soupPm4's quick checks and 300 dev questions. Resumable.
cd "$(dirname "$0")/../../.."
S=results/robust-hearing/s32
seed_ok() {  # own >= 95 and probe >= 90 (mean of gender/pitch/rate), the per-seed lines of rules 19 and 20
  .venv/bin/python - "$1" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "results/robust-hearing/s22")
from table import dev_checks
c = dev_checks(Path("results/robust-hearing/s32"), sys.argv[1])
own, probe = sum(c["own"]) / 3, sum(c["probe"]) / 3
print(f"rule 20: {sys.argv[1]} own {own:.1f} (>= 95), probe {probe:.1f} (>= 90)")
sys.exit(0 if own >= 95 and probe >= 90 else 1)
PY
}
for seed in gpm-s11 gpm-s12; do
  SESSION=s32 results/robust-hearing/s28/quick.sh $seed || exit 1
  seed_ok $seed || { echo "$(date +%T) $seed misses its per-seed lines: soupPm4 is not a candidate"; exit 1; }
done
$S/driver.sh soupPm4
echo "$(date +%T) CHAIN DONE"
