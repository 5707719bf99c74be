#!/bin/bash
# Rule 18 (information): soupPl = gpl-s9 + gpl-s10, quick checks and its 300 questions. Resumable.
exec "$(dirname "$0")/driver.sh" soupPl
