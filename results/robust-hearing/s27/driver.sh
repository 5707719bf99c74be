#!/bin/bash
# Session 27: s24/driver.sh's content and hearing checks (CONTENT_ONLY) on this session's arms (s27/train.sh).
#   driver.sh ARM...   -> runs/s27/ARM-default, results/robust-hearing/s27/{hc,requests}-ARM*.txt, ARM-dev_unseen-bigsem
RUNS=runs/s27 RESULTS=results/robust-hearing/s27 CONTENT_ONLY=1 exec "$(dirname "$0")/../s24/driver.sh" "$@"
