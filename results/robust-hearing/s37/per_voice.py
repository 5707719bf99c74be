"""Session 37: the dev_unseen hearing checks per flite voice (a diagnostic, no choice rests on it).

    .venv/bin/python results/robust-hearing/s37/per_voice.py DUMP.jsonl [DUMP.jsonl ...]

DUMP: `benchmarks/hearing_check.py MODEL runs/s9/feat/bigdev_recipe --dump DUMP`. Prints, per dump, the own-phrasing
balanced means and per task × voice × reference label the share answered right (dev_unseen gender is one female
voice, slt, 61 clips, against three male ones: the balanced gender accuracy is half slt's recall).
"""

import collections
import json
import sys
from pathlib import Path
from types import SimpleNamespace

from textpro.eval.diagnostics import balanced_accuracy

for path in map(Path, sys.argv[1:]):
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    cells, by_task = collections.defaultdict(lambda: [0, 0]), collections.defaultdict(list)
    for row in rows:
        cell = cells[(row["task"], row["voice"].removeprefix("flite-"), row["reference"])]
        cell[0] += row["predicted"] == row["reference"]
        cell[1] += 1
        by_task[row["task"]].append(row)
    balanced = {task: balanced_accuracy([SimpleNamespace(**row) for row in task_rows],
                                        {row["id"]: row["predicted"] for row in task_rows})
                for task, task_rows in by_task.items()}
    print(f"{path.stem}: " + " / ".join(f"{task} {value:.1f}" for task, value in balanced.items())
          + f" (mean {sum(balanced.values()) / len(balanced):.1f})")
    for task in balanced:
        print("  " + task + ": " + "  ".join(f"{voice}/{ref} {right}/{n}" for (t, voice, ref), (right, n)
                                             in sorted(cells.items()) if t == task))
