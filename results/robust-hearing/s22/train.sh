#!/bin/bash
# Session 22, trained arms (one at a time; checks by driver.sh ARM once runs/s22/ARM-default exists).
#   hmixfp-s7: session 21's hmix-s7 (hacc-s7 + 50 steps of the content mix: paralinguistic ratio 0.65, noise-free
#   learned vectors) with the projector frozen and no base_kd. hmix-s7 won the open answers back (dev requests ROUGE-L
#   0.412 -> 0.504) but lost most of hacc-s7's hearing (probe mean 94.5 -> 88.8). base_kd's gradient reaches the
#   projector only: does the hearing stay where the projector cannot move?
#   hacc85-s7: hacc-s7's recipe (100 steps from bk-s7, noise-free learned vectors, gender/pitch/rate rows reading
#   another clip's, accent rows their own and balanced) with 15% content rows (the content mix's: teacher answers, KL
#   toward the text LLM, base_kd 1.0 as bk-s7's step). hmixfp-s7 lost the hearing as hmix-s7 did, so the adapter, not
#   the projector, trades hearing for content; session 7: at 80% paralinguistic rows stage 2 kept the hearing phase's.
#   hacc85-s8: hacc85-s7 at seed 8 (the issue asks for the final stage at >= 2 seeds).
#   train.sh ARM [THREADS]   -> runs/s22/ARM, runs/s22/ARM-default
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
D=src/textpro/assets/default N=$1 T=${2:-2}
case $N in
  hmixfp-s7) args=(--config results/robust-hearing/s11/cont-yn.yaml --set init_from=runs/s21/hacc-s7-default
                   --set train.max_steps=50 --set learned_noise=0.0
                   --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0, accent: 0.0}"
                   --set paralinguistic.ratio=0.65 --set "paralinguistic.balance_labels=[accent]"
                   --set freeze_projector=true --set base_kd=0.0) ;;
  hacc85-s7|hacc85-s8) args=(--config results/robust-hearing/s11/cont-yn.yaml --set init_from=runs/s21/bk-s7-default
                   --set train.max_steps=100 --set learned_noise=0.0 --set "branch_dropout=[0.0, 0.0]"
                   --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0, style: 0.95, accent: 0.0}"
                   --set paralinguistic.ratio=0.85 --set "paralinguistic.balance_labels=[accent]"
                   --set base_kd=1.0 --set train.seed=${N#hacc85-s}) ;;  # the later --set wins
  *) echo "unknown arm $N"; exit 1 ;;
esac
[ -e runs/s22/$N/model ] || OMP_NUM_THREADS=$T .venv/bin/textpro train slm --stage 2 --output runs/s22/$N --resume \
  --set train.seed=7 "${args[@]}" >> runs/s22/$N.log 2>&1
[ -e runs/s22/$N-default ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('runs/s22/$N/model', '$D/teacher', '$D/whisperpro', 'runs/mini/data', 'runs/s22/$N-default')" > /dev/null
echo "$(date +%T) $N trained"
