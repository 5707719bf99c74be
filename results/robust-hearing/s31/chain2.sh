#!/bin/bash
# Rule 16: after chain.sh, gpl-s10's quick checks.
cd "$(dirname "$0")/../../.."
while ! grep -q "soupP bigsem done" runs/s31/chain.log; do sleep 20; done
SESSION=s31 results/robust-hearing/s28/quick.sh gpl-s10
