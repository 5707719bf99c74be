#!/bin/bash
# Session 30: s24/driver.sh's content and hearing checks (CONTENT_ONLY: own and probe phrasings, the 53 requests, the
# 300 dev questions) on this session's arms (s30/train.sh). Run as `driver.sh gsrc gtn-s7`, `driver.sh gn-s8`,
# `driver.sh soupG` (rules 7-11); the harness arms' checks ran with PYTHONPATH=results/robust-hearing/s30/hook.
#   driver.sh ARM...   -> runs/s30/ARM-default, results/robust-hearing/s30/{hc,requests}-ARM*.txt, ARM-dev_unseen-bigsem
RUNS=runs/s30 RESULTS=results/robust-hearing/s30 CONTENT_ONLY=1 exec "$(dirname "$0")/../s24/driver.sh" "$@"
