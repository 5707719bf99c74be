"""Session 46: every cached dev_unseen evaluation of sessions 39–46 (300 questions) read as `textpro eval` now reads
agreement: with its 95% interval, and against the text LLM's self-agreement under three content-free changes of its
prompt (a trailing space, a trailing newline, a leading space; an item counts the share of the changes under which
the text LLM keeps its answer), paired over the items, and how many of each run's disagreements fall on the questions
the text LLM answers differently under at least one change. The text LLM's changed answers come from one run that asked
them (REFERENCE); a run is read against them only if its own text-side answers equal that run's on every item (the
same teacher), otherwise it is skipped. No model runs.

    .venv/bin/python results/robust-hearing/s46/reference_table.py > results/robust-hearing/s46/reference_table.md
"""
import glob
import json

from textpro.eval import diagnostics as diag
from textpro.eval.harness import CONTENT_FREE

REFERENCE = "runs/s46/eval-default-dev_unseen-bigsem"


def answers(run: str) -> dict[str, dict[str, str]]:
    sides: dict[str, dict[str, str]] = {}
    for line in open(f"{run}/responses.jsonl"):
        row = json.loads(line)
        if row["task"] == "semantic":
            sides.setdefault(row["side"], {})[row["id"]] = row["response"].strip()
    return sides


def main() -> None:
    reference = answers(REFERENCE)
    text = reference["text"]
    items = sorted(reference["text+space"])
    steady = [sum(text[i] == reference[side][i] for side in CONTENT_FREE) / len(CONTENT_FREE) for i in items]
    by_change = ", ".join(f"{side} {100 * sum(text[i] == reference[side][i] for i in items) / len(items):.1f}"
                          for side in CONTENT_FREE)
    print(f"Text LLM self-agreement, {len(items)} dev_unseen questions: {100 * sum(steady) / len(items):.1f}% over "
          f"the changes ({by_change}; from `{REFERENCE}`)\n")
    unsteady = {i for i in items if any(text[i] != reference[side][i] for side in CONTENT_FREE)}
    print(f"{len(unsteady)} of the questions change answer under at least one change (the text LLM's unsteady "
          f"items); last column: how many of a run's disagreements fall on them.\n")
    print("| run | agreement % (95% interval) | − text self-agreement, paired (95% interval) | disagreements on "
          "unsteady items |")
    print("|---|---|---|---|")
    runs = glob.glob("runs/s39/eval-*-dev_unseen-bigsem") + glob.glob("runs/s4[0-6]/eval-*-dev_unseen-bigsem")
    for run in sorted(runs):
        sides = answers(run)
        if sides.get("text", {}) != text or "neutral" not in sides:
            print(f"| {run} | skipped: another teacher or no mean-voice answers | |")
            continue
        heard = [sides["speech"][i] == sides["neutral"][i] for i in items]
        low, high = diag.bootstrap_interval([100.0 * h for h in heard])
        paired = diag.paired_bootstrap(heard, steady)
        missed = {i for i, h in zip(items, heard, strict=True) if not h}
        print(f"| {run.removeprefix('runs/').removesuffix('-dev_unseen-bigsem')} | {100 * sum(heard) / len(items):.1f} "
              f"({low:.1f} … {high:.1f}) | {paired['mean_difference']:+.1f} ({paired['low']:+.1f} … "
              f"{paired['high']:+.1f}) | {len(missed & unsteady)} of {len(missed)} |")


if __name__ == "__main__":
    main()
