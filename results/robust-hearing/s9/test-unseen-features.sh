#!/bin/bash
# The default WhisperPro's features of every test_unseen gender/pitch/rate clip (450: 150 per task), for the fast
# hearing check (runs/s9/feat/test_unseen_para; skipped once there). Used by s9/test-check.sh and s11/test-check-prev.sh.
set -e
cd "$(dirname "$0")/../../.."
python3 -c "
import json
rows = [json.loads(l) for l in open('runs/mini/data/test_unseen.jsonl')]
open('runs/mini/data/test_unseen_para.jsonl', 'w').write(
    ''.join(json.dumps(r) + '\n' for r in rows if r.get('task') in ('gender', 'pitch', 'rate')))"
[ -d runs/s9/feat/test_unseen_para ] || HF_HUB_OFFLINE=1 .venv/bin/textpro featurize runs/mini/data/test_unseen_para.jsonl \
  --whisperpro src/textpro/assets/default/whisperpro --out runs/s9/feat/test_unseen_para
