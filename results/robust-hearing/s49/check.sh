#!/bin/bash
# Session 49 (rule 55 of s30/decision.md): session 48's first look at a model (accent on the 210 dev accent clips, own
# gender / pitch / rate on the 360 dev_unseen clips), for runs/s49/NAME-default (readout.py regress --name NAME).
# The default's numbers: s48/hc-accent210-default.txt, s48/hc-default.txt.
#   check.sh NAME...   -> s49/hc-accent210-NAME.txt, s49/hc-NAME.txt
cd "$(dirname "$0")/../../.."
S=results/robust-hearing/s49 R=runs/s49 exec results/robust-hearing/s48/check.sh "$@"
