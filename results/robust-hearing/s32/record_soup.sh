#!/bin/bash
# Session 32: a candidate rule of s30/decision.md applied once its queue has finished (19: record.sh, 20: record2.sh):
# the soup a candidate (each seed own >= 95 and probe >= 90; the soup every dev line)? then its recorded-speech guards
# (rule 13's), which decide whether it becomes the default, then test_unseen and test (ledger). Resumable.
#   record_soup.sh RULE SOUP SEED...
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 RUNS=runs/s32 RESULTS=results/robust-hearing/s32
S=$RESULTS T=2 rule=$1 N=$2
shift 2
while [ ! -e $S/$N-dev_unseen-bigsem/results.json ]; do sleep 30; done
.venv/bin/python $S/candidate.py soup $rule $N "$@" || { echo "$(date +%T) rule $rule: $N is not a candidate, nothing recorded"; exit 1; }
echo "$(date +%T) rule $rule: $N is a candidate"
[ -s $S/recorded-$N.md ] || OMP_NUM_THREADS=$T .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
  runs/s13/recorded-62.jsonl --model $RUNS/$N-default --answers $RUNS/recorded-$N.jsonl \
  --report $S/recorded-$N.md --threads $T > $RUNS/recorded-$N.log 2>&1
grep -E "English only|F0 rule is right" $S/recorded-$N.md
.venv/bin/python $S/candidate.py guards $rule $S/recorded-$N.md \
  && echo "$(date +%T) rule $rule: guards passed, $N becomes the default" \
  || echo "$(date +%T) rule $rule: guards failed, $N is recorded, the default stays"
echo "$(date +%T) recorded done"
for split in test_unseen test; do
  [ -e $S/$N-$split/results.json ] || results/robust-hearing/s11/eval.sh $N $split $T
  echo "$(date +%T) $N $split evaluated"
done
echo "$(date +%T) RECORD DONE"
