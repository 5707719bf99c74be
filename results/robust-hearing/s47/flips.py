"""Session 47: on the 300 dev_unseen questions, how the default's spoken answers move along the prosody gain — each
pair of {g 1.0, 0.75, 0.5, the prosody-neutral model (g 0)} compared item by item (whole answers, as agreement reads
them), and each gain's accuracy on the items where they differ. Reads devcheck.sh's cached answers.

    .venv/bin/python results/robust-hearing/s47/flips.py > results/robust-hearing/s47/flips.txt
"""
import itertools
import json

GAINS = ("1.0", "0.75", "0.5", "0.25")


def answers(gain: str, side: str) -> dict[str, str]:
    out = {}
    for line in open(f"runs/s47/eval-g{gain}-dev_unseen-bigsem/responses.jsonl"):
        row = json.loads(line)
        if row["side"] == side and row["task"] == "semantic":
            out[row["id"]] = row["response"].strip()
    return out


def main() -> None:
    runs = {f"g{g}": answers(g, "speech") for g in GAINS}
    neutral = {g: answers(g, "neutral") for g in GAINS}
    assert all(neutral[g] == neutral["1.0"] for g in GAINS), "the neutral answers should not depend on the gain"
    runs["g0 (neutral)"] = neutral["1.0"]
    items = sorted(set.intersection(*(set(a) for a in runs.values())))
    print(f"{len(items)} questions; share of identical answers, row vs column")
    names = list(runs)
    print("| | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for a in names:
        cells = [f"{100 * sum(runs[a][i] == runs[b][i] for i in items) / len(items):.1f}" for b in names]
        print(f"| {a} | " + " | ".join(cells) + " |")
    print("\nitems whose answer differs between any two of them:",
          sum(len({runs[n][i] for n in names}) > 1 for i in items))
    for a, b in itertools.combinations(names, 2):
        moved = [i for i in items if runs[a][i] != runs[b][i]]
        if a == "g1.0":
            back = sum(runs[b][i] == runs["g0 (neutral)"][i] for i in moved) if b != "g0 (neutral)" else len(moved)
            print(f"  {a} -> {b}: {len(moved)} answers change, {back} of them to the neutral model's answer")


if __name__ == "__main__":
    main()
