#!/bin/bash
# Session 36 (rule 24 of s30/decision.md): exact soups (`textpro soup --lora concat`: the average of the adapters'
# updates B·A, not of their factors) of the recipe's seeds, each checked as rule 22 (own phrasings, the 360 dev_unseen
# clips and 60 own training clips per task); cat-final also on session 34's content checks. Alone on the machine
# (2 threads); resumable, a finished output is skipped.
#   soup.sh  -> runs/s36/cat-{h400,4,final}/, results/robust-hearing/s36/hc-cat-*{,-train}.txt,
#               s36/requests-cat-final.txt, s36/cat-final-dev_unseen-bigsem/
cd "$(dirname "$0")/../../.."
S=results/robust-hearing/s36 R=runs/s36
source results/robust-hearing/s34/common.sh
cat_soup() {  # NAME INGREDIENT-DIRS...
  [ -e $R/$1 ] || .venv/bin/textpro soup "${@:2}" --lora concat --out $R/$1 || exit 1
  hearing_check $S/hc-$1.txt $R/$1 runs/s9/feat/bigdev_recipe
  hearing_check $S/hc-$1-train.txt $R/$1 runs/mini/features/train --limit 60
  echo "$(date +%T) $1 hearing checked"
}
cat_soup cat-h400 runs/s34/h400-s{0,1}-default
cat_soup cat-4 runs/s34/h400-s{0,1}-default runs/s35/lr2-s{0,1}-default
cat_soup cat-final runs/s34/h400-s{0,1}-gate-default
content_checks $R/cat-final cat-final
echo "$(date +%T) ALL DONE"
