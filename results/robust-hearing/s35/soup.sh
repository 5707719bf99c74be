#!/bin/bash
# Session 35, a diagnostic (s30/decision.md, after rule 23): soups of the hearing-phase runs that share the recipe's
# stage 1 (s34's h400-s0/s1, s35's lr2-s0/s1), each checked as rule 22 on the 360 dev_unseen clips. Resumable.
#   soup.sh   -> runs/s35/soup-{h400,h400lr2}/, results/robust-hearing/s35/hc-soup-{h400,h400lr2}.txt
cd "$(dirname "$0")/../../.."
source results/robust-hearing/s34/common.sh
S=results/robust-hearing/s35 R=runs/s35 BY="  by form"
soup() {  # NAME INGREDIENT-DIRS...
  [ -e $R/soup-$1 ] || .venv/bin/textpro soup "${@:2}" --out $R/soup-$1 > /dev/null || exit 1
  hearing_check $S/hc-soup-$1.txt $R/soup-$1 runs/s9/feat/bigdev_recipe
  echo "$(date +%T) soup-$1 done"
}
soup h400 runs/s34/h400-s{0,1}-default
soup h400lr2 runs/s34/h400-s{0,1}-default runs/s35/lr2-s{0,1}-default
