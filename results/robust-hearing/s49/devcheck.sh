#!/bin/bash
# Session 49 (rule 55 of s30/decision.md): rule 53's full dev checks of a readout model (runs/s49/NAME-default,
# readout.py regress), as s47/devcheck.sh checks one: own and probe hearing on the 360 dev_unseen clips, the 53
# dev_unseen requests, the 300 dev_unseen questions, accent / style on the mini world's dev split. Uses session 47's
# dev inputs (runs/s47/feat/dev_accent_style, runs/s9/feat/bigdev_default, runs/s12/bigsem, runs/s15/bigreq: rebuild
# them with s47/devcheck.sh if missing) and the text LLM's answers from its g1.0 run. Resumable.
#   devcheck.sh NAME...   -> results/robust-hearing/s49/{hc,hc-probe,hc-accent-style,requests}-NAME.txt, NAME-dev_unseen-bigsem/
cd "$(dirname "$0")/../../.."
export S=results/robust-hearing/s49 R=runs/s49
export TEACHER_ANSWERS=${TEACHER_ANSWERS:-runs/s47/eval-g1.0-dev_unseen-bigsem/responses.jsonl}
source results/robust-hearing/s34/common.sh
for n in "$@"; do
  D=$R/$n-default
  [ -e $D ] || { echo "$D missing: readout.py regress --name $n" >&2; exit 1; }
  [ -s $S/hc-accent-style-$n.txt ] || .venv/bin/python benchmarks/hearing_check.py $D runs/s47/feat/dev_accent_style \
    --threads 2 --tasks accent style > $S/hc-accent-style-$n.txt 2> $R/hc-accent-style-$n.log
  final_checks $D $n runs/s9/feat/bigdev_default
done
echo "$(date -u +%T) all done"
