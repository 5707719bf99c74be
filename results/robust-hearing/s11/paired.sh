#!/bin/bash
# Session 11: the order session 10 left to test, from scratch and paired within each seed. The hearing phase exactly as
# shipped (learned vector at its training mean on 95% of the rows), then two stage-2 runs from that same hearing adapter:
# `ctl` as shipped, and `swap` with learned_swap 0.95 and no branch dropout (session 9's cont-swap95, the lever behind the
# current default, which was measured only as a continuation). Stage 1 is session 10's (runs/s10/scratch-sSEED/stage1:
# the shipped stage-1 config, the same seed; stage 1 never used the swap). Inputs as session 10: the default's teacher
# and its WhisperPro's training features (runs/s9/features), the default teacher's distillation targets.
#   [HEARING_THREADS=N] paired.sh SEED [THREADS] [hearing]   -> runs/s11/sSEED/{hearing,stage2-ctl,stage2-swap}; resumable
#   (`hearing`: stop after the hearing phase, which does not read the distillation targets)
set -e
cd "$(dirname "$0")/../../.."
seed=$1; threads=${2:-1}
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=$threads
R=runs/s11/s$seed
F=runs/s9/features
S1=runs/s10/scratch-s$seed/stage1/model
common="--set train.seed=$seed --set features=[$F/train]"
mkdir -p $R
[ -e $R/hearing/model ] || OMP_NUM_THREADS=${HEARING_THREADS:-$threads} .venv/bin/textpro train slm --stage 2 --config configs/slm-mini-stage2-hearing.yaml \
  --output $R/hearing --resume $common --set init_from=$S1 --set train.max_steps=160
[ "$3" = hearing ] && exit 0
stage2() {  # NAME [--set …]
  local name=$1; shift
  [ -e $R/stage2-$name/model ] || .venv/bin/textpro train slm --stage 2 --config configs/slm-mini-stage2.yaml \
    --output $R/stage2-$name --resume $common --set init_from=$R/hearing/model --set distill=$F/distill.jsonl \
    --set train.max_steps=100 "$@" > $R/stage2-$name.log 2>&1
}
stage2 ctl &
stage2 swap --set learned_swap=0.95 --set "branch_dropout=[0.0,0.0]" &
wait
echo DONE
