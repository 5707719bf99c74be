#!/bin/bash
# Session 32: s24/driver.sh's content and hearing checks (CONTENT_ONLY: own and probe phrasings, the 53 requests, the
# 300 dev questions) on this session's arms (s32/train.sh).
#   driver.sh ARM...   -> runs/s32/ARM-default, results/robust-hearing/s32/{hc,requests}-ARM*.txt, ARM-dev_unseen-bigsem
RUNS=runs/s32 RESULTS=results/robust-hearing/s32 CONTENT_ONLY=1 exec "$(dirname "$0")/../s24/driver.sh" "$@"
