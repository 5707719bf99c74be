#!/bin/bash
# Session 24: the dose arms (train.sh opw65-s7, ctl65-s7) with driver.sh's content and hearing checks only (no
# accent, no projected probe: the session's time).
CONTENT_ONLY=1 exec "$(dirname "$0")/driver.sh" "$@"
