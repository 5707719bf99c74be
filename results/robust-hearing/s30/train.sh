#!/bin/bash
# Session 30's arms (no training): svdK = the default with its adapter cut to the top K directions per module,
# rsvdK = the same cut of the replicate soup65x4r.   train.sh ARM [THREADS]  -> runs/s30/ARM-default
cd "$(dirname "$0")/../../.."
arm=$1 out=runs/s30/$1-default
case $arm in
  svd*) src=src/textpro/assets/default k=${arm#svd} ;;
  rsvd*) src=runs/s28/soup65x4r-default k=${arm#rsvd} ;;
  *) echo "unknown arm $arm" >&2; exit 1 ;;
esac
[ -e $out ] || .venv/bin/python results/robust-hearing/s30/svd_adapter.py $src $out --keep $k
