#!/bin/bash
# Session 47 (rule 50 of s30/decision.md): the embedded default at prosody gains g (TextProSLMConfig.prosody_gain; no
# training), checked as s39/devcheck.sh checks a final model, on dev inputs rebuilt by the commands that made them:
# own and probe hearing on the 360 dev_unseen clips (featurized with the default's WhisperPro), the 53 dev_unseen
# requests, the 300 dev_unseen questions; and accent / style on the mini world's dev split (runs/mini/data, the
# recipe's data step). Alone on the machine; resumable.
#   devcheck.sh GAIN...   (e.g. 1.0 0.75 0.5)
#     -> results/robust-hearing/s47/{hc,hc-probe,hc-accent-style,requests}-gGAIN.txt, s47/gGAIN-dev_unseen-bigsem/
cd "$(dirname "$0")/../../.."
export S=results/robust-hearing/s47 R=runs/s47
source results/robust-hearing/s34/common.sh
source $S/common.sh
WP=$DEFAULT/whisperpro
build() {  # NAME COMMAND...: once (a marker file when it succeeded)
  [ -e $R/$1.done ] || { "${@:2}" > $R/$1.log 2>&1 && touch $R/$1.done; }
}
[ -e runs/mini/data/dev.jsonl ] || { echo "runs/mini/data missing: textpro recipe mini --until data" >&2; exit 1; }
build bigdev results/robust-hearing/s7/bigdev.sh runs/s9 default=$WP &
build bigsem results/robust-hearing/s12/bigsem.sh &
build bigreq results/robust-hearing/s15/bigreq.sh &
wait
for b in bigdev bigsem bigreq; do [ -e $R/$b.done ] || { echo "$b failed: $R/$b.log" >&2; exit 1; }; done
if [ ! -e $R/devfeat.done ]; then  # the dev split's accent and style clips, featurized once
  .venv/bin/python -c "
import json
rows = [json.loads(l) for l in open('runs/mini/data/dev.jsonl')]
keep = [r for r in rows if r.get('task') in ('accent', 'style')]
open('runs/mini/data/dev_accent_style.jsonl', 'w').write(''.join(json.dumps(r) + '\n' for r in keep))
print(len(rows), '->', len(keep))" && .venv/bin/textpro featurize runs/mini/data/dev_accent_style.jsonl \
    --whisperpro $WP --out $R/feat/dev_accent_style > $R/devfeat.log 2>&1 && touch $R/devfeat.done
fi
echo "$(date -u +%T) dev inputs built"
for g in "$@"; do
  N=g$g D=$R/model-g$g
  gain_model $g
  accent_style $g
  final_checks $D $N runs/s9/feat/bigdev_default
  # the text LLM's answers (and its reference sides) do not depend on the gain: the first gain's are reused
  [ -e "$TEACHER_ANSWERS" ] || export TEACHER_ANSWERS=$R/eval-$N-dev_unseen-bigsem/responses.jsonl
done
echo "$(date -u +%T) all done"
