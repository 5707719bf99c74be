#!/bin/bash
# Session 24: on-policy distillation (`on_policy` in SLM training; `textpro distill FEATURES --student MODEL`).
# Session 15 found that the SLM's open answers leave its text LLM's at the first token where their argmax differs
# (91% per-token agreement, first disagreement at token 10 median), and sessions 15-16 that more teacher-written
# content rows lift ROUGE-L only a little (40 content-only steps: 0.55 against the same transcript). Teacher-written
# rows only show the student the teacher's prefixes; on-policy rows show it its own answer, and the KL term alone
# (no CE on the student's words) teaches what the teacher would say next at every position of it (GKD).
# Every arm is hacc85-s7's step (the default: bk-s7 + 100 steps, 15% content rows) with one change:
#   op-s7:  + the default's own greedy answers (96 tokens) to the 300 train requests, KL only
#           (runs/s24/onpolicy-hacc85-s7.jsonl: `textpro distill runs/s9/features/train --student
#           runs/s22/hacc85-s7-default --task request --max-new-tokens 96`)
#   opw-s7: op-s7 + the default's own answers to the 905 written prompts (data/chat_prompts.py), each read around a
#           seeded train clip's prosody (runs/s24/onpolicy-written-hacc85-s7.jsonl: the same with --prompts written)
#   opw-s8: opw-s7 at train.seed=8 (the same on-policy files), for decision.md
#   opw65-s7: opw-s7 with 35% content rows (paralinguistic.ratio 0.65): does the on-policy signal move the open
#           answers at a larger dose? ctl65-s7: the same without the on-policy rows (its control)
#   train.sh ARM [THREADS]   -> runs/s24/ARM, runs/s24/ARM-default
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
N=$1 T=${2:-2}
source results/robust-hearing/s22/hacc85-args.sh
student=(--student runs/s22/hacc85-s7-default --max-new-tokens 96)
case $N in
  op-s7) own=runs/s24/onpolicy-hacc85-s7.jsonl
         [ -e $own.done ] || { OMP_NUM_THREADS=$T .venv/bin/textpro distill runs/s9/features/train "${student[@]}" \
           --task request --out $own --quiet && touch $own.done; } || exit 1
         args=("${hacc85[@]}" --set on_policy=$own) ;;
  opw-s7|opw-s8) own=runs/s24/onpolicy-both-hacc85-s7.jsonl
          written=runs/s24/onpolicy-written-hacc85-s7.jsonl
          [ -e $written.done ] || { OMP_NUM_THREADS=$T .venv/bin/textpro distill runs/s9/features/train \
            "${student[@]}" --prompts written --seed 7 --out $written --quiet && touch $written.done; } || exit 1
          cat runs/s24/onpolicy-hacc85-s7.jsonl $written > $own
          args=("${hacc85[@]}" --set on_policy=$own) ;;
  opw65-s7) args=("${hacc85[@]}" --set on_policy=runs/s24/onpolicy-both-hacc85-s7.jsonl
                  --set paralinguistic.ratio=0.65) ;;
  ctl65-s7) args=("${hacc85[@]}" --set paralinguistic.ratio=0.65) ;;
  *) echo "unknown arm $N"; exit 1 ;;
esac
mkdir -p runs/s24
train_arm runs/s24 $N $T --set train.seed=${N##*-s} "${args[@]}"
