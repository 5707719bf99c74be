#!/bin/bash
# After the choice, for the record: the fast hearing check of the session-7 model and the new default on every
# test_unseen paralinguistic clip (450: 150 per task), the same clips and phrasings for both (textpro eval's numbers;
# session 4 checked that the two agree).
set -e
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1
python3 -c "
import json
rows = [json.loads(l) for l in open('runs/mini/data/test_unseen.jsonl')]
open('runs/mini/data/test_unseen_para.jsonl', 'w').write(
    ''.join(json.dumps(r) + '\n' for r in rows if r.get('task') in ('gender', 'pitch', 'rate')))"
[ -d runs/s9/feat/test_unseen_para ] || .venv/bin/textpro featurize runs/mini/data/test_unseen_para.jsonl \
  --whisperpro src/textpro/assets/default/whisperpro --out runs/s9/feat/test_unseen_para
mkdir -p runs/s9/s7-default
git archive b2bc6fe src/textpro/assets/default | tar -x -C runs/s9/s7-default --strip-components=4
for pair in s7=runs/s9/s7-default new=src/textpro/assets/default; do
  .venv/bin/python benchmarks/hearing_check.py ${pair#*=} runs/s9/feat/test_unseen_para --threads 1 2>&1 \
    | grep -E "^(gender|pitch|rate)|  by " > results/robust-hearing/s9/hc-test_unseen-${pair%%=*}.txt
done
