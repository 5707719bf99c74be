#!/bin/bash
# Session 19: feature caches with the clip's mean encoder state (SpeechTokens.encoder_mean, new this session), from
# the embedded default's WhisperPro: the train split (the same 1140 records as runs/s9/features/train) and a 210-clip
# accent dev set (the mini world's dev split: its 30 accent items plus every other espeak clip asked an accent
# question of those 30, labelled with its voice's accent). Resumable.   featurize.sh -> runs/s19/features, runs/s19/feat
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${1:-1}
W=src/textpro/assets/default/whisperpro
.venv/bin/textpro featurize runs/s11/base/features/train-manifest.jsonl --whisperpro $W \
  --out runs/s19/features/train --batch-size 8 --shard-size 256 --quiet
.venv/bin/textpro featurize runs/mini/data/dev_accent210.jsonl --whisperpro $W --out runs/s19/feat/dev_accent210 --quiet
echo "$(date +%T) featurized"
