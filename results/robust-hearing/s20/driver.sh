#!/bin/bash
# Session 20: the accent prior. The mini world's accent rows are mostly "american" (piper, festival and their converted
# clips are American voices, asked accent as `every_clip`), and every model so far answers "american" to ~75% of the
# 210 dev accent clips whatever it reads (session 19). Two 100-step continuations of the embedded default (bk-s7's own
# recipe: s11/cont-yn.yaml, paralinguistic ratio 0.65, base_kd 1.0, learned_noise 2.0, task_learned_swap 1.0 for
# gender/pitch/rate, accent rows their own vectors), seed 7, run side by side on one thread each:
#   bal-s7      + paralinguistic.balance_labels [accent]: the accent share drawn equally from the four accents
#   balenc-s7   bal-s7 + slm.encoder_summary (the clip's mean encoder state, session 19) at encoder_lr_scale 3,
#               encoder_noise 0.5: the input a linear probe reads accent from at 75% (the learned vector: 54%)
# Checks: accent on the 210 dev clips, own/probe hearing on the 360-clip dev_unseen (caches with encoder means: the
# featurize of this code stores them). Then record.sh NAME (guards fixed before any number).
# Resumable.   driver.sh -> runs/s20/, results/robust-hearing/s20/
cd "$(dirname "$0")/../../.."
export RUNS=runs/s20 RESULTS=results/robust-hearing/s20 HF_HUB_OFFLINE=1
S=results/robust-hearing/s20
D=src/textpro/assets/default
mkdir -p runs/s20
until [ -e runs/s9/features/distill.jsonl ] && [ -e runs/s9/feat/bigdev_default/index.jsonl ] && ! pgrep -f "s11/rebuild.sh" > /dev/null; do sleep 20; done
results/robust-hearing/s19/featurize.sh 2 accent-only
train() {  # train NAME THREADS EXTRA...
  local N=$1 T=$2; shift 2
  [ -e runs/s20/$N/model ] || OMP_NUM_THREADS=$T .venv/bin/textpro train slm --stage 2 \
    --config results/robust-hearing/s11/cont-yn.yaml --output runs/s20/$N --resume --set train.seed=7 \
    --set train.max_steps=100 --set learned_noise=2.0 \
    --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0, accent: 0.0}" \
    --set paralinguistic.ratio=0.65 --set base_kd=1.0 --set "paralinguistic.balance_labels=[accent]" "$@" \
    >> runs/s20/$N.log 2>&1
  [ -e runs/s20/$N-default ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('runs/s20/$N/model', '$D/teacher', '$D/whisperpro', 'runs/mini/data', 'runs/s20/$N-default')" > /dev/null
  echo "$(date +%T) $N trained"
}
hc() {  # hc MODEL TAG: accent on the 210 dev clips, own and probe phrasings on the 360-clip dev_unseen
  export OMP_NUM_THREADS=2
  [ -e $S/accent-$2.txt ] || .venv/bin/python benchmarks/hearing_check.py $1 runs/s19/feat/dev_accent210 \
    --tasks accent --threads 2 --dump runs/s20/accent-$2.jsonl 2>&1 | grep -E "^accent|  by " > $S/accent-$2.txt
  for probe in "" probe; do
    f=$S/hc-$2${probe:+-probe}.txt
    [ -e $f ] || .venv/bin/python benchmarks/hearing_check.py $1 runs/s9/feat/bigdev_default --threads 2 \
      ${probe:+--phrasings results/robust-hearing/s10/probe-phrasings.yaml} 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $f
  done
  echo "$(date +%T) $2 checked"
}
train bal-s7 1 &
train balenc-s7 1 --set slm.encoder_summary=true --set encoder_lr_scale=3.0 --set encoder_noise=0.5 &
wait
hc $D bk-s7
hc runs/s20/bal-s7-default bal-s7
hc runs/s20/balenc-s7-default balenc-s7
echo "$(date +%T) ALL DONE"
