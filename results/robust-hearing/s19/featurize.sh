#!/bin/bash
# Session 19: feature caches with the clip's mean encoder state (SpeechTokens.encoder_mean, new this session), from
# the embedded default's WhisperPro: the train split (the same 1140 records as runs/s9/features/train) and a 210-clip
# accent dev set (the mini world's dev split: its 30 accent items plus every other espeak clip asked an accent
# question of those 30, labelled with its voice's accent). Resumable.   featurize.sh [THREADS] [accent-only] -> runs/s19/features, runs/s19/feat
# (accent-only, session 20: only the 210-clip accent dev set; this code's featurize stores encoder means in every cache)
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${1:-1}
W=src/textpro/assets/default/whisperpro
[ -e runs/mini/data/dev_accent210.jsonl ] || .venv/bin/python - <<'PY'
import json
rows = [json.loads(line) for line in open("runs/mini/data/dev.jsonl")]
accent = [r for r in rows if r.get("task") == "accent"]
others = [r for r in rows if r.get("task") != "accent" and r.get("accent") in ("american", "british", "scottish", "caribbean")]
items = list(accent)
for k, r in enumerate(others):  # every other espeak clip, asked one of the 30 accent questions in turn
    donor = accent[k % len(accent)]
    items.append({**r, "id": r["id"] + "-as-accent", "task": "accent", "labels": donor["labels"], "prompt": donor["prompt"],
                  "target": donor.get("target"), "phrasing_form": donor.get("phrasing_form"), "reference": r["accent"]})
open("runs/mini/data/dev_accent210.jsonl", "w").write("".join(json.dumps(r) + "\n" for r in items))
PY
[ "$2" == accent-only ] || .venv/bin/textpro featurize runs/s11/base/features/train-manifest.jsonl --whisperpro $W \
  --out runs/s19/features/train --batch-size 8 --shard-size 256 --quiet
[ -e runs/s19/feat/dev_accent210/index.jsonl ] || .venv/bin/textpro featurize runs/mini/data/dev_accent210.jsonl --whisperpro $W --out runs/s19/feat/dev_accent210 --quiet
echo "$(date +%T) featurized"
