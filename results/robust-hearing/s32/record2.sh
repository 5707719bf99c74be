#!/bin/bash
# Rule 20 of s30/decision.md applied once chain2.sh has finished (record_soup.sh).
exec "$(dirname "$0")/record_soup.sh" 20 soupPm4 gpm-s9 gpm-s10 gpm-s11 gpm-s12
