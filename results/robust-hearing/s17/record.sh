#!/bin/bash
# Session 17: bk-s7 (session 16's r65 + base_kd continuation) as the next default. (1) The 300-question dev_unseen
# content check (runs/s12/bigsem); (2) only if it holds content (speech − cascade ≥ −1.0 points and agreement with
# the prosody-neutral answer ≥ 89%, fixed before it ran; the default: +0.3, 91.0), one record on test_unseen (every
# item) and test (every item: 300 questions, 150 per task), ledger lines in results/ledger.jsonl.   record.sh -> runs/s17/, record.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s17 RESULTS=results/robust-hearing/s17 HF_HUB_OFFLINE=1
S=results/robust-hearing/s17
N=bk-s7
[ -e runs/s17/$N-default ] || ln -s ../s16/$N-default runs/s17/$N-default
[ -e runs/s12/bigsem/dev_unseen.jsonl ] || results/robust-hearing/s12/bigsem.sh > runs/s17/bigsem.log 2>&1
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
