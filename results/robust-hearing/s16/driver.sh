#!/bin/bash
# Session 16 on a fresh machine: (1) r65-s7 rebuilt (session 15's lead: the default + 100 steps with paralinguistic
# ratio 0.65, seed 7; does it reproduce on rebuilt inputs?), (2) bk-s7: the same + `base_kd: 1.0` (a KL term with the
# LoRA adapter off, training the projector to leave the original LLM's content answers alone). Each: own/probe hearing
# check, recorded-speech gender, the 53 dev_unseen requests. Resumable.   driver.sh -> runs/s16/NAME, runs/s16/driver.log
cd "$(dirname "$0")/../../.."
export RUNS=runs/s16 RESULTS=results/robust-hearing/s16 HF_HUB_OFFLINE=1
S=results/robust-hearing/s16
while pgrep -f "rebuild.sh inputs" > /dev/null; do sleep 20; done
echo "$(date +%T) inputs rebuilt"
for arm in "r65-s7" "bk-s7 --set base_kd=1.0"; do
  set -- $arm; N=$1; shift
  [ -e runs/s16/$N/model ] || OMP_NUM_THREADS=2 .venv/bin/textpro train slm --stage 2 \
    --config results/robust-hearing/s11/cont-yn.yaml --output runs/s16/$N --resume --set train.seed=7 \
    --set train.max_steps=100 --set learned_noise=2.0 --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0}" \
    --set paralinguistic.ratio=0.65 "$@" >> runs/s16/$N.log 2>&1
  echo "$(date +%T) $N trained"
  [ -e $S/hc-$N-probe.txt ] || results/robust-hearing/s11/check.sh $N 2 > runs/s16/check-$N.log 2>&1
  echo "$(date +%T) $N own+probe checked"
  [ -e $S/recorded-$N.md ] || OMP_NUM_THREADS=2 .venv/bin/python benchmarks/recorded_gender.py run /tmp/recorded \
    runs/s13/recorded-62.jsonl --model runs/s16/$N-default --answers runs/s16/recorded-$N.jsonl \
    --report $S/recorded-$N.md --threads 2 > runs/s16/recorded-$N.log 2>&1
  echo "$(date +%T) $N recorded checked"
  [ -e runs/s15/bigreq/dev_unseen.jsonl ] || results/robust-hearing/s15/bigreq.sh > runs/s16/bigreq.log 2>&1
  [ -e $S/requests-$N.txt ] || OMP_NUM_THREADS=2 .venv/bin/python results/robust-hearing/s15/request_diag.py \
    runs/s16/$N-default runs/s15/bigreq dev_unseen --jsonl runs/s16/requests-$N.jsonl 2>/dev/null > $S/requests-$N.txt
  echo "$(date +%T) $N requests checked"
done
echo "$(date +%T) ALL DONE"
