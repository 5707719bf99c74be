#!/bin/bash
# Rule 19 of s30/decision.md: gpm-s10, then gpm-s9, then soupPm (queue.sh).
exec "$(dirname "$0")/queue.sh" 19 soupPm gpm-s10 gpm-s9
