#!/bin/bash
# Rule 16: after chain.sh (soupP's 300 questions), gpl-s10's quick checks.
cd "$(dirname "$0")/../../.."
while [ ! -e results/robust-hearing/s31/soupP-dev_unseen-bigsem/results.json ]; do sleep 20; done
SESSION=s31 results/robust-hearing/s28/quick.sh gpl-s10
