#!/bin/bash
# Session 37 (rule 26 of s30/decision.md): the h590 hearing phases of seeds 0 (session 36, runs/s36) and 1 (runs/s37)
# continued exactly as the recipe continues its hearing phase (s34/continue.sh: stage 2, gate, the hearing checks on
# the 360 dev_unseen clips and session 34's content checks). Alone, one after the other; resumable.
cd "$(dirname "$0")/../../.."
export S=results/robust-hearing/s37
R=runs/s36 results/robust-hearing/s34/continue.sh h590-s0 || exit 1
R=runs/s37 results/robust-hearing/s34/continue.sh h590-s1 || exit 1
echo "$(date +%T) finals done"
