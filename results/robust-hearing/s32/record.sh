#!/bin/bash
# Rule 19 of s30/decision.md applied once chain.sh has finished (record_soup.sh).
exec "$(dirname "$0")/record_soup.sh" 19 soupPm gpm-s9 gpm-s10
