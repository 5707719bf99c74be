#!/bin/bash
# Session 35 (rule 23 of s30/decision.md): the recipe's hearing phase (runs/mini/configs/slm-hearing.yaml, 400 steps,
# from runs/mini/slm-stage1) with one change, at SEED; then rule 22's two hearing checks (s34/common.sh). Resumable.
#   arm.sh noacc|lr2 SEED [train]   -> runs/s35/ARM-sSEED/, results/robust-hearing/s35/hc-ARM-sSEED{,-train}.txt
#   noacc: no accent rows in the phase;  lr2: peak learning rate 2e-3 instead of 1e-3;
#   h590: 590 steps instead of 400 (session 36, rule 25: the time left under the 100-minute line)
#   swap: gender / pitch / rate rows read another clip's learned vector (as the default's gate step), not its mean
#         (session 37, rule 27: with the learned branch at its mean at inference every 400/590-step phase hears 96)
#   S, R: the results and runs directories (default s35's; a later session passes its own)
#   train: stop after training (THREADS, default 2, sets its OMP threads: two arms side by side run at 1 each)
cd "$(dirname "$0")/../../.."
S=${S:-results/robust-hearing/s35} R=${R:-runs/s35}
source results/robust-hearing/s34/common.sh
ARM=$1-s$2 BY="  by form"
mkdir -p $R
CONFIG=$R/$1.yaml
[ -s $CONFIG ] || .venv/bin/python - "$1" "$CONFIG" <<'PY' || exit 1
import sys, yaml
from textpro.data.paralinguistic import LABELS
arm, out = sys.argv[1:]
config = yaml.safe_load(open("runs/mini/configs/slm-hearing.yaml"))
config["train"]["max_steps"] = 400
if arm == "noacc":
    config["paralinguistic"]["labels"] = {task: labels for task, labels in LABELS.items() if task != "accent"}
    config["paralinguistic"]["every_clip"] = ["gender"]
elif arm == "lr2":
    config["train"]["learning_rate"] = 2.0e-3
elif arm == "h590":
    config["train"]["max_steps"] = 590
elif arm == "swap":
    config["branch_dropout"] = [0.0, 0.0]
    config["learned_swap"] = 0.95
    config["task_learned_swap"] = {"gender": 1.0, "pitch": 1.0, "rate": 1.0, "style": 0.95, "accent": 0.0}
else:
    sys.exit(f"unknown arm {arm}")
yaml.safe_dump(config, open(out, "w"), sort_keys=False)
PY
train_hearing $CONFIG $ARM --set train.seed=$2 || exit 1
[ "$3" = train ] || check_hearing_arm $ARM
