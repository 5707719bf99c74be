"""Session 45, rule 46: each lever arm against its control at the same seed (the gate step from the same stage-2
model), on the dev lines: prosody-neutral agreement on the 300 dev_unseen questions, speech − cascade, requests
(ROUGE-L as heard), own hearing (mean of gender / pitch / rate on 360 dev_unseen clips); per pair and as the mean over
pairs, with the agreement gain's paired bootstrap over items pooled over the pairs (1000 resamples).

    .venv/bin/python results/robust-hearing/s45/compare.py [ARM_PREFIX] > results/robust-hearing/s45/compare-ARM.txt
"""
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "s44"))
from agreement_pairs import disagreements  # noqa: E402

R = "results/robust-hearing"
CONTROLS = {  # seed -> (results directory, name, eval responses)
    0: (f"{R}/s39", "minicas", "runs/s39/eval-minicas-dev_unseen-bigsem/responses.jsonl"),
    1: (f"{R}/s44", "ctrl-s1", "runs/s44/eval-ctrl-s1-dev_unseen-bigsem/responses.jsonl"),
    2: (f"{R}/s44", "ctrl-s2", "runs/s44/eval-ctrl-s2-dev_unseen-bigsem/responses.jsonl"),
}


def arm(prefix: str, seed: int) -> tuple[str, str, str]:
    return f"{R}/s45", f"{prefix}-s{seed}", f"runs/s45/eval-{prefix}-s{seed}-dev_unseen-bigsem/responses.jsonl"


def lines(directory: str, name: str, responses: str) -> dict:
    """The model's dev numbers, read from the files its checks wrote."""
    own = [float(m) for m in re.findall(r"^\w+: n \d+\s+accuracy ([\d.]+)", open(f"{directory}/hc-{name}.txt").read(),
                                          re.M)]
    heard = re.search(r"^\s+heard\s+[\d.]+ / ([\d.]+)", open(f"{directory}/requests-{name}.txt").read(), re.M)
    results = open(f"{directory}/{name}-dev_unseen-bigsem/results.md").read()
    gap = re.search(r"Speech − cascade.*?\*\*([+−-][\d.]+)\*\*", results)
    missed, items, _ = disagreements(responses)
    return {"agreement": 100 * (1 - len(missed) / len(items)), "speech_cascade": float(gap[1].replace("−", "-")),
            "requests": float(heard[1]), "own": sum(own) / len(own), "missed": missed, "items": items}


def main() -> None:
    prefix = sys.argv[1] if len(sys.argv) > 1 else "cam"
    pairs = {}
    for seed, control in CONTROLS.items():
        if Path(arm(prefix, seed)[2]).exists() and Path(f"{R}/s45/{prefix}-s{seed}-dev_unseen-bigsem").exists():
            pairs[seed] = (lines(*arm(prefix, seed)), lines(*control))
    keys = ("agreement", "speech_cascade", "requests", "own")
    print(f"{'seed':6s}" + "".join(f"{k:>28s}" for k in keys))
    for seed, (a, c) in pairs.items():
        print(f"{seed:<6d}" + "".join(f"{a[k]:9.3f} vs {c[k]:7.3f} ({a[k] - c[k]:+.3f})" for k in keys))
    if not pairs:
        return
    mean = {k: sum(a[k] - c[k] for a, c in pairs.values()) / len(pairs) for k in keys}
    print("mean change over", len(pairs), "pairs:", "  ".join(f"{k} {v:+.3f}" for k, v in mean.items()))
    items = next(iter(pairs.values()))[0]["items"]

    def pooled(sample):
        return 100 * sum(sum((i in c["missed"]) - (i in a["missed"]) for i in sample) / len(sample)
                         for a, c in pairs.values()) / len(pairs)

    rng = random.Random(0)
    boot = sorted(pooled([rng.choice(items) for _ in items]) for _ in range(1000))
    print(f"agreement gain pooled over pairs: {pooled(items):+.1f} (95% {boot[25]:+.1f} .. {boot[974]:+.1f})")


if __name__ == "__main__":
    main()
