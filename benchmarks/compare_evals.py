"""Side-by-side table of `textpro eval` results (results.json) of several systems on one or more splits.

    python benchmarks/compare_evals.py NAME=DIR [NAME=DIR ...] [--markdown]

Each DIR is a `textpro eval --out` directory. Prints, per system: semantic accuracy from speech, the text LLM's,
the cascade's, the prosody-neutral accuracy and agreement, the speech − cascade bootstrap interval, each
paralinguistic task (accuracy, balanced accuracy for gender, the acoustic rule, the top answer's share) and the
open-request ROUGE-L and length ratio.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def summary(result: dict) -> dict:
    """The headline numbers of one results.json, flat."""
    average, boot = result["average"], result.get("bootstrap") or {}
    row = {"split": result["split"], "n_semantic": sum(t["n"] for t in result["semantic"]),
           "text": average.get("text_accuracy"), "speech": average.get("speech_accuracy"),
           "cascade": average.get("cascade_accuracy"), "neutral": average.get("neutral_accuracy"),
           "agreement": average.get("agreement"),
           "speech_minus_cascade": boot.get("mean_difference"), "ci": (boot.get("low"), boot.get("high"))}
    for task in result["paralinguistic"]:
        rule = task.get("rule") or {}
        top = (task.get("histogram") or {}).get("top_share")
        row[task["task"]] = {"n": task["n"], "acc": task["speech"]["accuracy"],
                             "balanced": task.get("balanced_accuracy"), "rule": rule.get("accuracy"), "top_share": top,
                             "phrasing": (task.get("phrasing") or {})}
    for task in result.get("open") or []:
        row["open"] = {"n": task["n"], "rouge_l": task["speech"]["rouge_l"],
                       "length_ratio": task["speech"]["length_ratio"]}
    return row


def markdown(rows: dict[str, dict]) -> str:
    tasks = sorted({k for r in rows.values() for k, v in r.items() if isinstance(v, dict) and "acc" in v})
    head = ["system", "split", "n sem", "text", "speech", "cascade", "speech − cascade (95% CI)", "neutral",
            "agreement", *tasks, "requests ROUGE-L / length"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in rows.items():
        ci = r["ci"]
        diff = "n/a" if r["speech_minus_cascade"] is None else \
            f"{r['speech_minus_cascade']:+.1f} ({ci[0]:+.1f} … {ci[1]:+.1f})"
        cells = [name, r["split"], str(r["n_semantic"]), _pct(r["text"]), _pct(r["speech"]), _pct(r["cascade"]), diff,
                 _pct(r["neutral"]), _pct(r["agreement"])]
        for task in tasks:
            t = r.get(task)
            if not t:
                cells.append("–")
                continue
            extra = f" (bal {_pct(t['balanced'])})" if t.get("balanced") is not None and task == "gender" else ""
            cells.append(f"{_pct(t['acc'])}{extra} · rule {_pct(t['rule'])} · top {_pct(t['top_share'])}% · n {t['n']}")
        o = r.get("open")
        cells.append(f"{o['rouge_l']:.2f} / {o['length_ratio']:.2f} (n {o['n']})" if o else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("systems", nargs="+", metavar="NAME=DIR")
    args = parser.parse_args(argv)
    rows = {}
    for item in args.systems:
        name, _, directory = item.partition("=")
        rows[name] = summary(json.loads((Path(directory) / "results.json").read_text()))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
