#!/bin/bash
# Session 19: the encoder-summary lever for accent. The embedded default (bk-s7) + 100 steps of its own recipe
# (s11/cont-yn.yaml, paralinguistic ratio 0.65, base_kd 1.0, learned_noise 2.0, task_learned_swap 1.0 for
# gender/pitch/rate) with `slm.encoder_summary: true` (the projector gains the clip's mean encoder state, zero columns
# at the start) and accent rows reading their own learned vectors (task_learned_swap accent 0.0), seed 7: `enc-s7`.
# `encg-s7`: enc-s7 plus gender rows reading their own clip's encoder mean (own_encoder_mean [gender]) while their
# median F0 is shifted by up to 0.8 octave against the label (task_f0_shift): the gender answer must come from the
# encoder mean where F0 misleads (a linear probe on it reads recorded English gender at 100%, JFK at 223 Hz included);
# no noise on the encoder mean (encoder_noise 0: in enc-s7 its new columns barely moved under learned_noise 2.0).
# `encl-s7`: enc-s7 with the encoder weight at 10x the learning rate (`encoder_lr_scale`, the branch now its own
# nn.Linear; enc-s7 and encg-s7 were trained with it as extra columns of linear_in, which no longer load), noise 0.5
# on it, gender rows reading their own encoder mean, no F0 shift.
# Control without the encoder branch (`ctl-s7`, if time allows). Checks: accent on the 210-clip dev set,
# own/probe hearing on the 360-clip dev_unseen, both featurized with encoder means (featurize.sh).
# Resumable.   driver.sh ARM... (enc, encg, encl, ctl) -> runs/s19/, results/robust-hearing/s19/
cd "$(dirname "$0")/../../.."
export RUNS=runs/s19 RESULTS=results/robust-hearing/s19 HF_HUB_OFFLINE=1
S=results/robust-hearing/s19
D=src/textpro/assets/default
while pgrep -f "s19/featurize.sh|output runs/s19/enc-s7|hearing_check" > /dev/null; do sleep 10; done  # under way
[ -e runs/s19/feat/bigdev/index.jsonl ] || OMP_NUM_THREADS=2 .venv/bin/textpro featurize \
  runs/s9/data/dev_unseen_para.jsonl --whisperpro $D/whisperpro --out runs/s19/feat/bigdev --quiet
hc() {  # hc MODEL TAG: accent on the 210 dev clips, own and probe phrasings on the 360-clip dev_unseen
  [ -e $S/accent-$2.txt ] || .venv/bin/python benchmarks/hearing_check.py $1 runs/s19/feat/dev_accent210 \
    --tasks accent --threads 2 --dump runs/s19/accent-$2.jsonl 2>&1 | grep -E "^accent|  by " > $S/accent-$2.txt
  for probe in "" probe; do
    f=$S/hc-$2${probe:+-probe}.txt
    [ -e $f ] || .venv/bin/python benchmarks/hearing_check.py $1 runs/s19/feat/bigdev --threads 2 \
      ${probe:+--phrasings results/robust-hearing/s10/probe-phrasings.yaml} 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $f
  done
}
export OMP_NUM_THREADS=2
hc $D bk-s7
echo "$(date +%T) default checked"
for arm in "$@"; do
  N=$arm-s7
  extra=(); [ $arm != ctl ] && extra=(--set slm.encoder_summary=true)
  [ $arm == encl ] && extra+=(--set encoder_lr_scale=10.0 --set encoder_noise=0.5 --set "own_encoder_mean=[gender]")
  [ $arm == encg ] && extra+=(--set "own_encoder_mean=[gender]" \
    --set "task_f0_shift={gender: {male: [0.0, 0.8], female: [-0.8, 0.0]}}" --set encoder_noise=0.0)
  [ -e runs/s19/$N/model ] || .venv/bin/textpro train slm --stage 2 \
    --config results/robust-hearing/s11/cont-yn.yaml --output runs/s19/$N --resume --set train.seed=7 \
    --set features=[runs/s19/features/train] --set train.max_steps=100 --set learned_noise=2.0 \
    --set "task_learned_swap={gender: 1.0, pitch: 1.0, rate: 1.0, accent: 0.0}" \
    --set paralinguistic.ratio=0.65 --set base_kd=1.0 "${extra[@]}" >> runs/s19/$N.log 2>&1
  [ -e runs/s19/$N-default ] || .venv/bin/python -c "from textpro.recipe.export import export_default as e; \
e('runs/s19/$N/model', '$D/teacher', '$D/whisperpro', 'runs/mini/data', 'runs/s19/$N-default')" > /dev/null
  echo "$(date +%T) $N trained"
  hc runs/s19/$N-default $N
  echo "$(date +%T) $N checked"
done
echo "$(date +%T) ALL DONE"
