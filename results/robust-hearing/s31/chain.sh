#!/bin/bash
# Rule 15: gp-s9, gp-s10 quick checks, then soupP's quick checks and 300 questions (s24/driver.sh's content checks).
# Resumable.
cd "$(dirname "$0")/../../.."
SESSION=s31 results/robust-hearing/s28/quick.sh gp-s9 gp-s10 && results/robust-hearing/s31/driver.sh soupP
