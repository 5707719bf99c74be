#!/bin/bash
# Session 7's 360-clip dev_unseen rebuilt on a fresh machine (same seed: the same clips), featurized with the embedded
# default's WhisperPro and with this session's runs/mini one.
exec "$(dirname "$0")/../s7/bigdev.sh" runs/s8 default=src/textpro/assets/default/whisperpro \
  mini=runs/mini/whisperpro/model
