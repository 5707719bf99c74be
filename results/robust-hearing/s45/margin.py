"""Session 45: are the questions a model answers differently as heard and at the mean voice the ones its text LLM is
unsure of? For each of the 300 dev_unseen questions, the text LLM's (the recipe's teacher) probability margin between
its two likeliest first answer tokens, reading the cascade's prompt (the SLM's own transcript, as `textpro eval`'s
cascade does); then each model's disagreements (heard ≠ mean voice) by tercile of that margin; then the text LLM's
own agreement with itself under prompt changes that carry no content (a trailing space, a trailing newline, a leading
space), greedy as `textpro eval`: what "agreement" a text LLM reaches when only the surface of its input moves.

    .venv/bin/python results/robust-hearing/s45/margin.py > results/robust-hearing/s45/margin.txt
    # the tercile table alone, from the margins that run saved (results/robust-hearing/s45/margins.json):
    .venv/bin/python results/robust-hearing/s45/margin.py --terciles > results/robust-hearing/s45/margin-terciles.txt
"""
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "s44"))
from agreement_pairs import disagreements  # noqa: E402

from textpro.eval.responders import TextLLMResponder, cascade_prompt  # noqa: E402
from textpro.text_llm import render_chat  # noqa: E402

MODELS = {  # seed: control, then the two gate-step levers of rules 46-47
    "mini-cas s0": "runs/s39/eval-minicas-dev_unseen-bigsem/responses.jsonl",
    "ctrl s1": "runs/s44/eval-ctrl-s1-dev_unseen-bigsem/responses.jsonl",
    "ctrl s2": "runs/s44/eval-ctrl-s2-dev_unseen-bigsem/responses.jsonl",
    "cam s1": "runs/s45/eval-cam-s1-dev_unseen-bigsem/responses.jsonl",
    "pull s0": "runs/s45/eval-pull-s0-dev_unseen-bigsem/responses.jsonl",
    "pull s1": "runs/s45/eval-pull-s1-dev_unseen-bigsem/responses.jsonl",
    "pull s2": "runs/s45/eval-pull-s2-dev_unseen-bigsem/responses.jsonl",
}


NULL_CHANGES = {"a trailing space": lambda p: p + " ", "a trailing newline": lambda p: p + "\n",
                "a leading space": lambda p: " " + p}


@torch.no_grad()
def first_token_margins(teacher: TextLLMResponder, prompts: list[str]) -> list[float]:
    """p(top 1) − p(top 2) of the first answer token, one prompt at a time (no padding to get wrong)."""
    margins = []
    for prompt in prompts:
        ids = teacher.tokenizer(render_chat(teacher.tokenizer, prompt, teacher.system_prompt),
                                return_tensors="pt", add_special_tokens=False).input_ids
        top = teacher.model(ids).logits[0, -1].softmax(-1).topk(2).values
        margins.append(float(top[0] - top[1]))
    return margins


def main() -> None:
    models = {name: path for name, path in MODELS.items() if Path(path).exists()}
    _, items, answers = disagreements(models["ctrl s1"])
    saved = Path(__file__).with_name("margins.json")
    terciles_only = "--terciles" in sys.argv
    if terciles_only:
        margins = json.load(open(saved))
    else:
        teacher = TextLLMResponder.from_pretrained("runs/mini-cas/default/teacher")
        margins = dict(zip(items, first_token_margins(teacher, [cascade_prompt(answers["transcript"][i], None)
                                                                for i in items]), strict=True))
        json.dump(margins, open(saved, "w"))
    order = sorted(items, key=margins.get)
    thirds = [set(order[k * len(order) // 3:(k + 1) * len(order) // 3]) for k in range(3)]
    bounds = [margins[order[k * len(order) // 3]] for k in range(3)]
    print(f"text LLM first-token margin p1 − p2 on the cascade prompt, {len(items)} items: terciles from "
          + ", ".join(f"{b:.3f}" for b in bounds))
    print(f"{'model':12s} {'disagree':>8s}  by tercile (low / mid / high margin)")
    shares = []
    for name, path in models.items():
        missed = disagreements(path)[0]
        counts = [len(missed & third) for third in thirds]
        shares.append(counts[0] / max(1, len(missed)))
        print(f"{name:12s} {len(missed):8d}  {' / '.join(map(str, counts))}")
    print(f"share of disagreements in the lowest-margin third: mean {100 * sum(shares) / len(shares):.0f}% "
          f"(uniform: 33%)")
    if terciles_only:
        return
    prompts = [cascade_prompt(answers["transcript"][i], None) for i in items]
    plain = [a.strip() for a in teacher.answer_text(prompts)]
    for name, change in NULL_CHANGES.items():
        changed = [a.strip() for a in teacher.answer_text([change(p) for p in prompts])]
        same = [a == b for a, b in zip(plain, changed, strict=True)]
        low = [s for s, i in zip(same, items, strict=True) if i in thirds[0]]
        print(f"text LLM, prompt + {name}: agreement with its own answers {100 * sum(same) / len(same):.1f}% "
              f"(lowest-margin third {100 * sum(low) / len(low):.1f}%, the rest "
              f"{100 * (sum(same) - sum(low)) / (len(same) - len(low)):.1f}%)")


if __name__ == "__main__":
    main()
