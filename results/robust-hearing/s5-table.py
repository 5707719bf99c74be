"""Session 5's table: `textpro eval` results.json files side by side (one column per file).

    python results/robust-hearing/s5-table.py NAME=runs/r5/eval-s0/test_unseen/results.json ...
"""

import json
import sys


def balanced(task: dict) -> str:
    return f"{task['balanced_accuracy']:.1f}"


def column(result: dict) -> dict[str, str]:
    semantic = result["semantic"][0]
    boot = result["bootstrap"]
    rows = {
        "semantic n": str(semantic["n"]),
        "text LLM / speech / cascade / neutral": " / ".join(
            f"{semantic[side]['accuracy']:.1f}" for side in ("text", "speech", "cascade", "neutral")),
        "speech − cascade (95% CI)": f"{boot['mean_difference']:+.1f} ({boot['low']:+.1f} … {boot['high']:+.1f})",
        "prosody-neutral agreement": f"{semantic['agreement']:.1f}",
    }
    for task in result["paralinguistic"]:
        rule = f" (rule {task['rule']['accuracy']:.0f})" if task.get("rule") else ""
        top = task["histogram"]["top_share"]
        label = f"{task['task']}, balanced [largest answer share] (n {task['n']})"
        rows[label] = f"{balanced(task)} [{top:.0f}%]{rule}"
    for task in result.get("open") or []:
        rows[f"{task['task']}: ROUGE-L / length (n {task['n']})"] = \
            f"{task['speech']['rouge_l']:.2f} / {task['speech']['length_ratio']:.2f}"
    return rows


columns = {name: column(json.load(open(path))) for name, path in (a.split("=", 1) for a in sys.argv[1:])}
keys = list(dict.fromkeys(k for c in columns.values() for k in c))
print("| | " + " | ".join(columns) + " |")
print("|---|" + "---:|" * len(columns))
for key in keys:
    print(f"| {key} | " + " | ".join(c.get(key, "–") for c in columns.values()) + " |")
