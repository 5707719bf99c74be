#!/bin/bash
# Session 23: an arm of driver.sh towards a record as a candidate default. Guards, written before any arm's numbers
# were seen: session 22's (s22/record.sh: own >= 95.0, probe >= 90.0, recorded >= 130/135 rule-right and English
# >= 88.9, 300-question speech - cascade >= -1.0 and agreement >= 91.0, requests ROUGE-L >= 0.48) and accent on the
# 210 dev clips (balanced) >= 36.8 (session 19's accent guard; every model so far 26-33).
#   record.sh ARM   -> s22/record.sh's records under runs/s23, results/robust-hearing/s23
cd "$(dirname "$0")/../../.."
S=results/robust-hearing/s23 N=$1
accent=$(grep -oP "^accent: n 210 .*balanced \K[\d.]+" $S/accent-$N.txt)
echo "$(date +%T) $N accent on 210 dev clips $accent (>= 36.8)"
awk -v a="$accent" 'BEGIN { exit !(a >= 36.8) }' || { echo "$(date +%T) $N accent guard failed: no record"; exit 1; }
results/robust-hearing/s22/record.sh $N runs/s23 $S
