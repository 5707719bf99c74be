#!/bin/bash
# Rule 17 (information; run after the session's fresh-clone tests): gpl-s10's 300 questions, then gpl-s9 and its
# quick checks. Resumable.
cd "$(dirname "$0")/../../.."
results/robust-hearing/s31/driver.sh gpl-s10 && SESSION=s31 results/robust-hearing/s28/quick.sh gpl-s9
