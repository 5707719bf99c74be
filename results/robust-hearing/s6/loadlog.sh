#!/usr/bin/env bash
# The machine's load beside the recipe's timing: every 60 s, the 1-min load average and the busiest processes.
while true; do
  echo "$(date +%FT%T) load $(cut -d' ' -f1-3 /proc/loadavg) | $(ps -eo pcpu,comm --sort=-pcpu --no-headers | head -3 | tr -s ' ' | paste -sd, -)"
  sleep 60
done
