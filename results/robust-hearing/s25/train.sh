#!/bin/bash
# Session 25: the stage-2 LoRA update at the prosody placeholder's rows only (restricted.py): the transcript, the
# instruction and the answer run through the text LLM's own weights and hear the voice only by attending to the
# placeholder's adapted keys and values. Session 24 found the content drift spread over the whole update (removing
# any half of it frees little and costs hearing), and the text LLM's weights around the projected token at 0.595
# ROUGE-L against the same transcript: where the adapter does not act, content cannot drift, so the question is
# whether one token's adapted keys and values can carry the hearing.
#   pos-s7: the default (hacc85-s7) continued 100 steps with hacc85-s7's own mix and settings, restricted
#   posend-s7: pos-s7 with the placeholder at the end of the prompt (PLACEHOLDER_AT=end, set here and read by
#           restricted.py; driver.sh's checks need it in the environment too): pos-s7's placeholder, before the
#           transcript, could not see the question and made every answer short (requests ROUGE-L 0.242, length 0.72)
#   posuser-s7: the placeholder at the end of the user's turn (PLACEHOLDER_AT=user): posend-s7's placeholder, at the
#           end of the prompt, predicts the answer's first token and moved the open answers even with the adapter off
#   train.sh ARM [THREADS]   -> runs/s25/ARM, runs/s25/ARM-default
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
D=src/textpro/assets/default N=$1 T=${2:-2}
source results/robust-hearing/s22/hacc85-args.sh  # its init_from (bk-s7) is overridden by each arm's below
case $N in
  pos-s7) args=("${hacc85[@]}" --set init_from=runs/s22/hacc85-s7-default) ;;
  posend-s7) export PLACEHOLDER_AT=end
             args=("${hacc85[@]}" --set init_from=runs/s22/hacc85-s7-default) ;;
  posuser-s7) export PLACEHOLDER_AT=user
              args=("${hacc85[@]}" --set init_from=runs/s22/hacc85-s7-default) ;;
  *) echo "unknown arm $N"; exit 1 ;;
esac
mkdir -p runs/s25
[ -e runs/s25/$N/model ] || OMP_NUM_THREADS=$T .venv/bin/python results/robust-hearing/s25/restricted.py \
  .venv/bin/textpro train slm --stage 2 --output runs/s25/$N --resume --set train.seed=${N##*-s} "${args[@]}" \
  >> runs/s25/$N.log 2>&1 || exit 1
[ -e runs/s25/$N-default ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('runs/s25/$N/model', '$D/teacher', '$D/whisperpro', 'runs/mini/data', 'runs/s25/$N-default')" > /dev/null
echo "$(date +%T) $N trained"
