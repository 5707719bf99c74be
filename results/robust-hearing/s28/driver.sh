#!/bin/bash
# Session 28: s24/driver.sh's content and hearing checks (CONTENT_ONLY) on this session's arms (s28/train.sh).
#   driver.sh ARM...   -> runs/s28/ARM-default, results/robust-hearing/s28/{hc,requests}-ARM*.txt, ARM-dev_unseen-bigsem
RUNS=runs/s28 RESULTS=results/robust-hearing/s28 CONTENT_ONLY=1 exec "$(dirname "$0")/../s24/driver.sh" "$@"
