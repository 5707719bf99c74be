"""Session 46: of the items whose two answers differ (the SLM as heard against its mean voice; the text LLM against
itself with a trailing space), how many still name the same option letter once `textpro eval`'s extractor reads them,
and how often the option text and the letter inside one answer disagree ("sixteen (C)" where C is "thirteen").
Reads cached `textpro eval` answers; no model runs.

    .venv/bin/python results/robust-hearing/s46/choice_split.py RUN_DIR... > results/robust-hearing/s46/choice_split.txt
"""
import json
import re
import sys

from textpro.eval.bench import load_bench
from textpro.eval.extract import extract_choice

ITEMS = {i.id: i for i in load_bench("runs/s12/bigsem", "dev_unseen") if i.kind == "mcq"}
PAIRS = {"SLM heard vs mean voice": ("speech", "neutral"), "text LLM vs + trailing space": ("text", "text+space")}


def consistent(answer: str, item) -> str | None:
    """An answer "option text (L)": "same" (L's own text), "other" (another option's text), "none" (no option's
    text); None for another form."""
    found = re.fullmatch(r"(.+?)\s*\(([A-Da-d])\)\.?", answer)
    if not found or found.group(2).lower() not in item.options:
        return None
    named = found.group(1).strip().lower()
    texts = {k: v.strip().lower() for k, v in item.options.items()}
    return "same" if named == texts[found.group(2).lower()] else "other" if named in texts.values() else "none"


def main() -> None:
    for run in sys.argv[1:]:
        answers: dict[str, dict[str, str]] = {}
        for line in open(f"{run}/responses.jsonl"):
            row = json.loads(line)
            if row["id"] in ITEMS:
                answers.setdefault(row["side"], {})[row["id"]] = row["response"].strip()
        print(run)
        for name, (a, b) in PAIRS.items():
            differ = [i for i in ITEMS if answers[a][i] != answers[b][i]]
            letter = [extract_choice(answers[s][i], ITEMS[i].letters, options=ITEMS[i].options).choice
                      for i in differ for s in (a, b)]
            same_letter = sum(letter[2 * k] == letter[2 * k + 1] for k in range(len(differ)))
            print(f"  {name}: {len(differ)} items differ, {same_letter} of them name the same letter "
                  f"(agreement {100 * (1 - len(differ) / len(ITEMS)):.1f}%, by letter "
                  f"{100 * (1 - (len(differ) - same_letter) / len(ITEMS)):.1f}%)")
        for side in ("text", "speech"):
            read = [consistent(answers[side][i], ITEMS[i]) for i in ITEMS]
            print(f"  {side}: of {sum(r is not None for r in read)} 'text (L)' answers, {read.count('other')} name "
                  f"another option's text than L's, {read.count('none')} no option's text")


if __name__ == "__main__":
    main()
