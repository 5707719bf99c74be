#!/bin/bash
# Session 48 (rule 53 of s30/decision.md): the checks of an arm (or "default", the embedded default).
#   check.sh first NAME...  accent on the 210-clip dev accent set (s19/featurize.sh accent-only) and own gender / pitch /
#                           rate on the 360 dev_unseen clips -> s48/hc-accent210-NAME.txt, s48/hc-NAME.txt
#   check.sh full NAME...   session 39's final checks (probe hearing, 53 requests, 300 dev_unseen questions) and
#                           accent / style on the dev split -> s48/{hc-NAME-probe,requests-NAME}.txt, s48/NAME-dev_unseen-bigsem/
# The text LLM's answers to the 300 questions are session 47's (they do not depend on the SLM).
cd "$(dirname "$0")/../../.."
export S=results/robust-hearing/s48 R=runs/s48
export TEACHER_ANSWERS=runs/s47/eval-g1.0-dev_unseen-bigsem/responses.jsonl
source results/robust-hearing/s34/common.sh
model() { [ "$1" = default ] && echo src/textpro/assets/default || echo $R/$1-default; }
what=$1; shift
for n in "$@"; do
  D=$(model $n)
  [ -e $D ] || { echo "$D missing: train.sh $n" >&2; exit 1; }
  if [ $what = first ]; then
    [ -s $S/hc-accent210-$n.txt ] || .venv/bin/python benchmarks/hearing_check.py $D runs/s19/feat/dev_accent210 \
      --threads 2 --tasks accent > $S/hc-accent210-$n.txt 2> $R/hc-accent210-$n.log
    hearing_check $S/hc-$n.txt $D runs/s9/feat/bigdev_default
    echo "$(date -u +%T) $n first look done"
  else
    [ -s $S/hc-accent-style-$n.txt ] || .venv/bin/python benchmarks/hearing_check.py $D runs/s47/feat/dev_accent_style \
      --threads 2 --tasks accent style > $S/hc-accent-style-$n.txt 2> $R/hc-accent-style-$n.log
    final_checks $D $n runs/s9/feat/bigdev_default
  fi
done
