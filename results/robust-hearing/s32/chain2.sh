#!/bin/bash
# Rule 20 of s30/decision.md: gpm-s11, then gpm-s12, then soupPm4 (queue.sh).
exec "$(dirname "$0")/queue.sh" 20 soupPm4 gpm-s11 gpm-s12
