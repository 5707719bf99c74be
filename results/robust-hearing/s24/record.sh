#!/bin/bash
# Session 24: an arm of driver.sh towards a record as a candidate default. Guards, written before any arm's numbers
# were seen: session 22's (s22/record.sh: own >= 95.0, probe >= 90.0, recorded >= 130/135 rule-right and English
# >= 88.9, 300-question speech - cascade >= -1.0 and agreement >= 91.0, requests ROUGE-L >= 0.48) and, since the
# lever is for the open answers, the 53 dev_unseen requests' ROUGE-L against the same transcript >= 0.52 (the
# default hacc85-s7: 0.499, its seed 8: 0.505).
#   [RUNS=runs/sN RESULTS=results/robust-hearing/sN] record.sh ARM   -> s22/record.sh's records there (default s24)
cd "$(dirname "$0")/../../.."
S=${RESULTS:-results/robust-hearing/s24} R=${RUNS:-runs/s24} N=$1
rouge=$(grep -oP "^  heard +[\d.]+ / \K[\d.]+" $S/requests-$N.txt)
echo "$(date +%T) $N requests ROUGE-L vs the same transcript $rouge (>= 0.52)"
awk -v a="$rouge" 'BEGIN { exit !(a >= 0.52) }' || { echo "$(date +%T) $N requests guard failed: no record"; exit 1; }
results/robust-hearing/s22/record.sh $N $R $S
