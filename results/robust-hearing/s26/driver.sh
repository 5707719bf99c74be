#!/bin/bash
# Session 26: s24/driver.sh's content and hearing checks (CONTENT_ONLY) on this session's arms (s26/train.sh).
#   driver.sh ARM...   -> runs/s26/ARM-default, results/robust-hearing/s26/{hc,requests}-ARM*.txt, ARM-dev_unseen-bigsem
RUNS=runs/s26 RESULTS=results/robust-hearing/s26 CONTENT_ONLY=1 exec "$(dirname "$0")/../s24/driver.sh" "$@"
