# Session 22: the default's last step (hacc85-s7: bk-s7 + 100 steps, 15% content rows) as `textpro train slm --stage 2`
# arguments; sourced by the train.sh of every later session whose arms change one thing in it (s23-s29), with train_arm below.
hacc85=(--config results/robust-hearing/s11/cont-yn.yaml --set init_from=runs/s21/bk-s7-default
        --set train.max_steps=100 --set learned_noise=0.0 --set "branch_dropout=[0.0, 0.0]"
        --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0, style: 0.95, accent: 0.0}"
        --set paralinguistic.ratio=0.85 --set "paralinguistic.balance_labels=[accent]" --set base_kd=1.0)

# One arm, run from the repository root: its 100-step continuation (resumable, log in RUNS/ARM.log), then the exported
# model beside it with the default's teacher and WhisperPro. Each step is skipped once its output exists.
#   train_arm RUNS ARM THREADS ARGS...   -> RUNS/ARM/model, RUNS/ARM-default
train_arm() {
  local runs=$1 arm=$2 threads=$3 D=src/textpro/assets/default
  shift 3
  [ -e $runs/$arm/model ] || OMP_NUM_THREADS=$threads .venv/bin/textpro train slm --stage 2 --output $runs/$arm \
    --resume "$@" >> $runs/$arm.log 2>&1
  [ -e $runs/$arm-default ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('$runs/$arm/model', '$D/teacher', '$D/whisperpro', 'runs/mini/data', '$runs/$arm-default')" > /dev/null
  echo "$(date +%T) $arm trained"
}
