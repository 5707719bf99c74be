"""Session 44: which dev_unseen questions each model answers differently as heard and at the training-mean voice (the
items prosody-neutral agreement misses), how those items overlap between models, and the effect of `mean_voice_kl`
pooled over its two seed pairs (paired bootstrap over the 300 items, 1000 resamples); then the items every model misses,
with ctrl-s1's transcript and each model's two answers.

    .venv/bin/python results/robust-hearing/s44/agreement_pairs.py > results/robust-hearing/s44/agreement_pairs.txt
"""
import json
import random

RUNS = {  # each model's `textpro eval` answers on the 300 dev_unseen questions
    "mini-cas s0": "runs/s39/eval-minicas-dev_unseen-bigsem/responses.jsonl",
    "s2mv s0": "runs/s43/eval-s2mv-dev_unseen-bigsem/responses.jsonl",
    "ctrl s1": "runs/s44/eval-ctrl-s1-dev_unseen-bigsem/responses.jsonl",
    "s2mv s1": "runs/s44/eval-s2mv-s1-dev_unseen-bigsem/responses.jsonl",
}
PAIRS = (("s2mv s0", "mini-cas s0"), ("s2mv s1", "ctrl s1"))  # (with the term, without), same seed


def disagreements(path: str) -> tuple[set[str], list[str], dict[str, dict[str, str]]]:
    """The semantic items whose answer as heard differs from the answer at the mean voice, every item id, and the
    model's answers by side (speech, neutral, transcript) and item."""
    answers = {"speech": {}, "neutral": {}, "transcript": {}}
    for line in open(path):
        row = json.loads(line)
        if row["task"] == "semantic" and row["system"].startswith("textpro-slm") and row["side"] in answers:
            answers[row["side"]][row["id"]] = row["response"].strip()
    heard, neutral = answers["speech"], answers["neutral"]
    return {i for i in heard if heard[i] != neutral.get(i)}, sorted(heard), answers


def pooled_effect(missed: dict[str, set[str]], items: list[str]) -> float:
    """Agreement points the term adds, averaged over the seed pairs."""
    gains = [sum((i in missed[ctrl]) - (i in missed[arm]) for i in items) / len(items) for arm, ctrl in PAIRS]
    return 100 * sum(gains) / len(gains)


def main() -> None:
    missed, items, answers = {}, [], {}
    for name, path in RUNS.items():
        missed[name], items, answers[name] = disagreements(path)
        agreement = 100 * (1 - len(missed[name]) / len(items))
        print(f"{name}: n {len(items)}  disagree {len(missed[name])}  agreement {agreement:.1f}")
    print("shared disagreements (row ∩ column):", *RUNS)
    for a in RUNS:
        print(f"  {a:12s}", [len(missed[a] & missed[b]) for b in RUNS])
    rng = random.Random(0)
    boot = sorted(pooled_effect(missed, [rng.choice(items) for _ in items]) for _ in range(1000))
    print(f"mean_voice_kl's agreement effect, mean of the 2 seed pairs: {pooled_effect(missed, items):+.1f} points "
          f"(95% {boot[25]:+.1f} .. {boot[974]:+.1f})")
    print(f"seed effect without the term (ctrl s1 − mini-cas s0): "
          f"{100 * (len(missed['mini-cas s0']) - len(missed['ctrl s1'])) / len(items):+.1f} points")
    core = sorted(set.intersection(*missed.values()))
    voices = {row["id"]: row["voice"] for row in map(json.loads, open("runs/s12/bigsem/dev_unseen.jsonl"))}
    print(f"missed by every model: {len(core)}; heard / neutral answers, one per model ({', '.join(RUNS)})")
    for i in core:
        print(f"  {i} {voices[i]}: {answers['ctrl s1']['transcript'][i]!r}")
        heard, neutral = ([answers[m][side][i] for m in RUNS] for side in ("speech", "neutral"))
        print(f"    heard {heard}  neutral {neutral}")


if __name__ == "__main__":
    main()
