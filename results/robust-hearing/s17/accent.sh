#!/bin/bash
# Session 17: accent and style on the mini world's own dev split (espeak voices; 30 clips each, own dev phrasings),
# read from cached features of the default's WhisperPro (runs/s17/feat/dev_accent_style), for the default, bk-s7
# and ac-s7.   accent.sh -> results/robust-hearing/s17/accent-NAME.txt
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2
S=results/robust-hearing/s17
while pgrep -f "s17/driver.sh" > /dev/null; do sleep 20; done
if [ ! -e runs/s17/feat/dev_accent_style/done ]; then
  python3 -c "
import json
rows = [json.loads(l) for l in open('runs/mini/data/dev.jsonl')]
keep = [r for r in rows if r.get('task') in ('accent', 'style')]
open('runs/mini/data/dev_accent_style.jsonl', 'w').write(''.join(json.dumps(r) + '\n' for r in keep))"
  .venv/bin/textpro featurize runs/mini/data/dev_accent_style.jsonl --whisperpro src/textpro/assets/default/whisperpro \
    --out runs/s17/feat/dev_accent_style --quiet && touch runs/s17/feat/dev_accent_style/done
fi
for pair in nl-s6=src/textpro/assets/default bk-s7=runs/s16/bk-s7-default ac-s7=runs/s17/ac-s7-default; do
  [ -e $S/accent-${pair%%=*}.txt ] || .venv/bin/python benchmarks/hearing_check.py ${pair#*=} \
    runs/s17/feat/dev_accent_style --tasks accent style --threads 2 --dump runs/s17/accent-${pair%%=*}.jsonl 2>&1 \
    | grep -E "^(accent|style)|  by " > $S/accent-${pair%%=*}.txt
done
echo "$(date +%T) accent done"
