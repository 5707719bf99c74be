#!/bin/bash
# Rule 12 (for session 31): gn-s9, gn-s10 trained and quick-checked, then soupGr's quick checks and 300 questions
# (s24/driver.sh's content checks). Resumable: every step is skipped once its output exists.
cd "$(dirname "$0")/../../.."
SESSION=s30 results/robust-hearing/s28/quick.sh gn-s9 gn-s10 && results/robust-hearing/s30/driver.sh soupGr
