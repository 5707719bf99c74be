#!/bin/bash
# Session 22: can one model keep hacc-s7's hearing (the default since session 21) and bk-s7's content (the default
# before it)? hacc-s7 is bk-s7 + 100 steps of paralinguistic rows: on dev it gained hearing (probe phrasings 86.9 ->
# 94.5) and lost open answers (53 requests, ROUGE-L vs the same transcript 0.505 -> 0.412); a content phase after it
# (hmix-s7) gave the hearing back. Here, no training: weight-space interpolation (interpolate.py) between the two, and
# a scaled-down adapter update (s15's diagnosis: the text LLM's own weights reading the placeholder answer requests at
# 0.58). Checks per arm, one job at a time (two side by side are 5-8x slower on 2 cores): own and probe phrasings on
# the 360-clip dev_unseen, the 53 dev_unseen requests (s15/request_diag.py), the 300-question dev_unseen.
#   driver.sh ARM...   (arms below) -> runs/s22/ARM-default, results/robust-hearing/s22/{hc,requests}-ARM*.txt, ARM-dev_unseen-bigsem/
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
S=results/robust-hearing/s22 R=runs/s22
BK=runs/s21/bk-s7-default HACC=runs/s21/hacc-s7-default
mkdir -p $R
build() {  # build ARM: runs/s22/ARM-default
  local out=$R/$1-default
  [ -e $out/projector.safetensors ] && return
  rm -rf $out
  case $1 in
    wise50) .venv/bin/python $S/interpolate.py $BK $HACC $out --alpha 0.5 ;;
    wise30) .venv/bin/python $S/interpolate.py $BK $HACC $out --alpha 0.3 ;;
    wise70) .venv/bin/python $S/interpolate.py $BK $HACC $out --alpha 0.7 ;;
    hacc-ls75) .venv/bin/python $S/interpolate.py $BK $HACC $out --alpha 1.0 --lora-scale 0.75 ;;
    wise50-ls75) .venv/bin/python $S/interpolate.py $BK $HACC $out --alpha 0.5 --lora-scale 0.75 ;;
    *) echo "unknown arm $1"; exit 1 ;;
  esac
}
check() {  # check ARM
  local m=$R/$1-default
  for probe in "" probe; do
    f=$S/hc-$1${probe:+-probe}.txt
    [ -s $f ] || .venv/bin/python benchmarks/hearing_check.py $m runs/s9/feat/bigdev_default --threads 2 \
      ${probe:+--phrasings results/robust-hearing/s10/probe-phrasings.yaml} 2>&1 | grep -E "^(gender|pitch|rate)|  by " > $f
  done
  echo "$(date +%T) $1 hearing checked"
  [ -s $S/requests-$1.txt ] || .venv/bin/python results/robust-hearing/s15/request_diag.py $m runs/s15/bigreq \
    dev_unseen --jsonl $R/requests-$1.jsonl > $S/requests-$1.txt 2> $R/requests-$1.log
  echo "$(date +%T) $1 requests checked"
  [ -e $S/$1-dev_unseen-bigsem/results.json ] || RUNS=$R RESULTS=$S BENCH=runs/s12/bigsem \
    results/robust-hearing/s11/eval.sh $1 dev_unseen 2
  echo "$(date +%T) $1 checked"
}
for arm in "$@"; do
  if [ $arm = hacc-s8 ]; then  # session 21's second seed: its 300-question content check was cut by the session's end
    [ -e results/robust-hearing/s21/hacc-s8-dev_unseen-bigsem/results.json ] || RUNS=runs/s21 \
      RESULTS=results/robust-hearing/s21 BENCH=runs/s12/bigsem results/robust-hearing/s11/eval.sh hacc-s8 dev_unseen 2
    [ -e results/robust-hearing/s21/requests-hacc-s8.txt ] || .venv/bin/python results/robust-hearing/s15/request_diag.py \
      runs/s21/hacc-s8-default runs/s15/bigreq dev_unseen --jsonl runs/s21/requests-hacc-s8.jsonl \
      > results/robust-hearing/s21/requests-hacc-s8.txt 2> runs/s21/requests-hacc-s8.log
    echo "$(date +%T) hacc-s8 checked"
    continue
  fi
  build $arm && check $arm
done
echo "$(date +%T) ALL DONE $*"
