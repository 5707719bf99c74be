#!/bin/bash
# Session 11, after the choice and the test record: does the previous default also answer test_unseen's open gender
# question "How would you describe the speaker?" with a mood? The fast hearing check of both defaults on every
# test_unseen gender/pitch/rate clip (s9/test-check.sh's features), every answer dumped.
#   test-check-prev.sh [THREADS]   -> s11/hc-test_unseen-{prev,new}.txt, runs/s11/dump-test_unseen-{prev,new}.jsonl
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${1:-2}
python3 -c "
import json
rows = [json.loads(l) for l in open('runs/mini/data/test_unseen.jsonl')]
open('runs/mini/data/test_unseen_para.jsonl', 'w').write(
    ''.join(json.dumps(r) + '\n' for r in rows if r.get('task') in ('gender', 'pitch', 'rate')))"
[ -d runs/s9/feat/test_unseen_para ] || .venv/bin/textpro featurize runs/mini/data/test_unseen_para.jsonl \
  --whisperpro src/textpro/assets/default/whisperpro --out runs/s9/feat/test_unseen_para
for pair in prev=runs/s11/default-s9-default new=src/textpro/assets/default; do
  .venv/bin/python benchmarks/hearing_check.py ${pair#*=} runs/s9/feat/test_unseen_para --threads ${1:-2} \
    --dump runs/s11/dump-test_unseen-${pair%%=*}.jsonl 2>&1 \
    | grep -E "^(gender|pitch|rate)|  by " > results/robust-hearing/s11/hc-test_unseen-${pair%%=*}.txt
done
