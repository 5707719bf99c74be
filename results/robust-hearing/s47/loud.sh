#!/bin/bash
# Session 47, rule 51: accent and style on the mini world's dev split at prosody gains above 1 (devcheck.sh's inputs
# and model directories).   loud.sh GAIN...   -> results/robust-hearing/s47/hc-accent-style-gGAIN.txt
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2 R=runs/s47 S=results/robust-hearing/s47
source $S/common.sh
for g in "$@"; do
  gain_model $g
  accent_style $g
  grep -v "^  by" $S/hc-accent-style-g$g.txt
done
