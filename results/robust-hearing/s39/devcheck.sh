#!/bin/bash
# Session 39 (rule 28 of s30/decision.md): the new recipe's `make mini` model (runs/mini-swap/default) checked as
# s34/continue.sh checks a final model, on a fresh machine: the dev inputs are rebuilt first by the commands that made
# them (seeded data, the same clips): the 360 dev_unseen gender / pitch / rate clips (s7/bigdev.sh, featurized with this
# model's own WhisperPro), the 300 dev_unseen questions (s12/bigsem.sh), the 53 dev_unseen requests (s15/bigreq.sh).
# Then: own and probe hearing, the requests' ROUGE-L, the questions' speech / cascade / neutral / agreement.
# Alone on the machine (data: three builds side by side at one thread; checks: 2 threads). Resumable.
#   devcheck.sh [MODEL_DIR NAME WHISPERPRO]   (default runs/mini-swap/default miniswap runs/mini-swap/whisperpro/model:
#                                              the recipe's WhisperPro, as runs/s9/feat/bigdev_recipe was featurized)
#     -> results/robust-hearing/s39/{hc,hc-probe,requests}-NAME.txt, s39/NAME-dev_unseen-bigsem/
cd "$(dirname "$0")/../../.."
export S=results/robust-hearing/s39 R=runs/s39
source results/robust-hearing/s34/common.sh
D=${1:-runs/mini-swap/default} N=${2:-miniswap} WP=${3:-runs/mini-swap/whisperpro/model}
build() {  # NAME COMMAND...: once (a marker file when it succeeded)
  [ -e $R/$1.done ] || { "${@:2}" > $R/$1.log 2>&1 && touch $R/$1.done; }
}
build bigdev-$N results/robust-hearing/s7/bigdev.sh runs/s9 $N=$WP &
build bigsem results/robust-hearing/s12/bigsem.sh &
build bigreq results/robust-hearing/s15/bigreq.sh &
wait
for b in bigdev-$N bigsem bigreq; do [ -e $R/$b.done ] || { echo "$b failed: $R/$b.log" >&2; exit 1; }; done
echo "$(date +%T) dev inputs built"
final_checks $D $N runs/s9/feat/bigdev_$N  # s34/common.sh: hearing, the 53 requests, the 300 questions
