#!/bin/bash
# Session 48 (rule 53 of s30/decision.md): the first look at an arm (or "default", the embedded default): accent on the
# 210-clip dev accent set (s19/featurize.sh accent-only) and own gender / pitch / rate on the 360 dev_unseen clips.
# (Rule 53's full checks, session 39's final_checks, were never reached: no arm passed the first look.)
#   check.sh NAME...   -> s48/hc-accent210-NAME.txt, s48/hc-NAME.txt
cd "$(dirname "$0")/../../.."
export S=${S:-results/robust-hearing/s48} R=${R:-runs/s48}  # session 49 passes its own (s49/check.sh)
source results/robust-hearing/s34/common.sh
for n in "$@"; do
  D=$R/$n-default
  [ $n = default ] && D=src/textpro/assets/default
  [ -e $D ] || { echo "$D missing: train it first (s48/train.sh, s49/readout.py regress)" >&2; exit 1; }
  [ -s $S/hc-accent210-$n.txt ] || .venv/bin/python benchmarks/hearing_check.py $D runs/s19/feat/dev_accent210 \
    --threads 2 --tasks accent > $S/hc-accent210-$n.txt 2> $R/hc-accent210-$n.log
  hearing_check $S/hc-$n.txt $D runs/s9/feat/bigdev_default
  echo "$(date -u +%T) $n first look done"
done
