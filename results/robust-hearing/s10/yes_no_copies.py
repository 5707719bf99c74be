"""Session 10: yes/no questions of a hearing_check dump, split by whether they ask about the clip's own label.
    python results/robust-hearing/s10/yes_no_copies.py DUMP.jsonl[.gz] ...   (hearing_check.py --dump)
Prints per task: right answers when the question asks about the own label, right answers when it asks about another
label, and how often the answer named that other (asked) label instead."""
import gzip
import json
import sys

for path in sys.argv[1:]:
    with (gzip.open if path.endswith(".gz") else open)(path, "rt") as lines:
        rows = [json.loads(line) for line in lines]
    out = []
    for task in ("gender", "pitch", "rate"):
        yes_no = [r for r in rows if r["task"] == task and r["form"] == "yes_no"]
        own = [r for r in yes_no if r["yes_label"] == r["reference"]]
        other = [r for r in yes_no if r["yes_label"] != r["reference"]]

        def right(group):
            return f"{sum(r['predicted'] == r['reference'] for r in group)}/{len(group)}"

        copied = sum(r["predicted"] == r["yes_label"] for r in other)
        out.append(f"{task}: asks own {right(own)}, asks another {right(other)} (named the asked label {copied})")
    print(path.split("/")[-1], " | ".join(out))
