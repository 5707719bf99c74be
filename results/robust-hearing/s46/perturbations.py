"""Session 46: is one trailing space a fair stand-in for "a change without content"? The text LLM's self-agreement on
the text prompts of the 300 questions of dev_unseen (runs/s12/bigsem) and of test_unseen (the mini world's) under
three such changes (session 45 measured them on the cascade's prompts of dev_unseen only), and under no change of the
prompt at all but the batch it is asked in (one prompt at a time instead of `textpro eval`'s batches of 8: only the
padding moves). Greedy, batches of 8 in item order as `textpro eval` asks; the unchanged answers are checked against
`textpro eval`'s cached text side of the default's runs.

    .venv/bin/python results/robust-hearing/s46/perturbations.py > results/robust-hearing/s46/perturbations.txt
"""
import json

from textpro.eval.bench import MCQ, load_bench
from textpro.eval.responders import TextLLMResponder

CHANGES = {"a trailing space": lambda p: p + " ", "a trailing newline": lambda p: p + "\n",
           "a leading space": lambda p: " " + p}
SPLITS = {"dev_unseen": ("runs/s12/bigsem", "runs/s46/eval-default-dev_unseen-bigsem"),
          "test_unseen": ("runs/mini-cas/data", "runs/s46/eval-default-test_unseen")}


def answers(teacher: TextLLMResponder, prompts: list[str], batch: int = 8) -> list[str]:
    return [a.strip() for k in range(0, len(prompts), batch) for a in teacher.answer_text(prompts[k:k + batch])]


def main() -> None:
    teacher = TextLLMResponder.from_pretrained("src/textpro/assets/default/teacher")
    for split, (bench, run) in SPLITS.items():
        items = [item for item in load_bench(bench, split) if item.kind == MCQ]
        prompts = [item.prompt for item in items]
        plain = answers(teacher, prompts)
        cached = {row["id"]: row["response"].strip() for row in map(json.loads, open(f"{run}/responses.jsonl"))
                  if row["side"] == "text" and row["system"] == "teacher"}
        print(f"{split}: {len(prompts)} text prompts; answers equal to `textpro eval`'s cached text side on "
              f"{sum(cached[i.id] == a for i, a in zip(items, plain, strict=True))}")
        for name, changed in [*((n, answers(teacher, [c(p) for p in prompts])) for n, c in CHANGES.items()),
                              ("nothing, one prompt per batch", answers(teacher, prompts, batch=1))]:
            same = sum(a == b for a, b in zip(plain, changed, strict=True))
            print(f"  + {name}: {100 * same / len(prompts):.1f}% answered alike", flush=True)


if __name__ == "__main__":
    main()
