# Session 47: what devcheck.sh and loud.sh share (sourced from the repository root, R and S set).
DEFAULT=src/textpro/assets/default
gain_model() {  # GAIN: $R/model-gGAIN, the default's files with its config's prosody_gain set (once)
  local D=$R/model-g$1
  [ -e $D ] && return
  mkdir -p $D && for f in $DEFAULT/*; do [ "$(basename $f)" = textpro_config.json ] || ln -s $PWD/$f $D/; done
  .venv/bin/python -c "
import json
c = json.load(open('$DEFAULT/textpro_config.json')); c['prosody_gain'] = float('$1')
open('$D/textpro_config.json', 'w').write(json.dumps(c, indent=2) + '\n')"
}
accent_style() {  # GAIN: accent and style on the dev split's clips (devcheck.sh featurizes them once)
  [ -s $S/hc-accent-style-g$1.txt ] || .venv/bin/python benchmarks/hearing_check.py $R/model-g$1 \
    $R/feat/dev_accent_style --threads 2 --tasks accent style > $S/hc-accent-style-g$1.txt 2> $R/hc-accent-style-g$1.log
}
