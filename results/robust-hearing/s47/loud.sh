#!/bin/bash
# Session 47, rule 51: accent and style on the mini world's dev split at prosody gains above 1 (devcheck.sh's inputs
# and model directories).   loud.sh GAIN...   -> results/robust-hearing/s47/hc-accent-style-gGAIN.txt
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2 R=runs/s47 S=results/robust-hearing/s47
DEFAULT=src/textpro/assets/default
for g in "$@"; do
  D=$R/model-g$g
  if [ ! -e $D ]; then
    mkdir -p $D && for f in $DEFAULT/*; do [ "$(basename $f)" = textpro_config.json ] || ln -s $PWD/$f $D/; done
    .venv/bin/python -c "
import json
c = json.load(open('$DEFAULT/textpro_config.json')); c['prosody_gain'] = float('$g')
open('$D/textpro_config.json', 'w').write(json.dumps(c, indent=2) + '\n')"
  fi
  [ -s $S/hc-accent-style-g$g.txt ] || .venv/bin/python benchmarks/hearing_check.py $D $R/feat/dev_accent_style \
    --threads 2 --tasks accent style > $S/hc-accent-style-g$g.txt 2> $R/hc-accent-style-g$g.log
  grep -v "^  by" $S/hc-accent-style-g$g.txt
done
