#!/bin/bash
# Session 49 (rule 55 of s30/decision.md): the first look at an arm (or "default", the embedded default): accent on the
# 210-clip dev accent set (s19/featurize.sh accent-only) and own gender / pitch / rate on the 360 dev_unseen clips.
# (the default's numbers: s48/hc-accent210-default.txt, s48/hc-default.txt)
#   check.sh NAME...   -> s49/hc-accent210-NAME.txt, s49/hc-NAME.txt
cd "$(dirname "$0")/../../.."
export S=results/robust-hearing/s49 R=runs/s49
source results/robust-hearing/s34/common.sh
for n in "$@"; do
  D=$R/$n-default
  [ $n = default ] && D=src/textpro/assets/default
  [ -e $D ] || { echo "$D missing: readout.py regress --name $n" >&2; exit 1; }
  [ -s $S/hc-accent210-$n.txt ] || .venv/bin/python benchmarks/hearing_check.py $D runs/s19/feat/dev_accent210 \
    --threads 2 --tasks accent > $S/hc-accent210-$n.txt 2> $R/hc-accent210-$n.log
  hearing_check $S/hc-$n.txt $D runs/s9/feat/bigdev_default
  echo "$(date -u +%T) $n first look done"
done
