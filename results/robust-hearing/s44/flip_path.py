"""Session 44: where along the way from a clip's own voice to the training-mean voice does an answer flip, and which
branch flips it? For each dev_unseen question a model answers differently as heard and at the mean voice (its
`textpro eval` answers), the answer with every prosody input moved a share α of the way back from the mean
(α 1: as heard, 0: the mean), and with only the learned branch (WhisperPro's vectors) or only the measured acoustics
at their mean. Greedy, 64 new tokens, as `textpro eval`.

    .venv/bin/python results/robust-hearing/s44/flip_path.py runs/s44/ctrl-s1-default \
        runs/s44/eval-ctrl-s1-dev_unseen-bigsem/responses.jsonl > results/robust-hearing/s44/flip_path-ctrl-s1.txt
"""
import collections
import dataclasses
import json
import sys
from pathlib import Path

from agreement_pairs import disagreements  # this folder's: the items a model's agreement misses

from textpro.pipeline import TextPro

BENCH = Path("runs/s12/bigsem")
ALPHAS = (1.0, 0.75, 0.5, 0.25, 0.0)


def toward_mean(speech, mean, alpha: float):
    """The clip's speech with each prosody input a share alpha of the way from the mean voice to its own."""
    fields = ("prosody", "utterance", "encoder_mean", "acoustics")
    return dataclasses.replace(speech, **{f: getattr(mean, f) + alpha * (getattr(speech, f) - getattr(mean, f))
                                          for f in fields if getattr(speech, f) is not None})


def main(model_dir: str, responses: str) -> None:
    pipeline = TextPro.from_pretrained(model_dir)
    slm = pipeline.slm
    missed, _, answers = disagreements(responses)
    items = {i: {side: answers[side][i] for side in ("speech", "neutral")} for i in missed}
    records = {r["id"]: r for r in map(json.loads, open(BENCH / "dev_unseen.jsonl")) if r["id"] in items}
    ids = sorted(items)
    heard = pipeline.listen([str(BENCH / records[i]["audio"]) for i in ids])
    variants = {f"α {a:g}": [toward_mean(s, slm.neutral_speech(s), a) for s in heard] for a in ALPHAS}
    variants["learned at mean"] = [slm.neutral_speech(s, branch="learned") for s in heard]
    variants["acoustics at mean"] = [slm.neutral_speech(s, branch="acoustic") for s in heard]
    answers = {name: slm.generate([(s, None) for s in speeches], max_new_tokens=64)
               for name, speeches in variants.items()}
    print(f"{model_dir}: {len(ids)} questions answered differently as heard and at the mean voice (eval's answers)")
    same_as_heard = collections.Counter()
    for k, i in enumerate(ids):
        print(f"{i} {records[i]['voice']} ref {records[i]['reference']}  eval heard {items[i]['speech']!r} "
              f"neutral {items[i]['neutral']!r}")
        print("   " + " | ".join(f"{name}: {answers[name][k].strip()!r}" for name in answers))
        for name in answers:
            same_as_heard[name] += answers[name][k].strip() == answers["α 1"][k].strip()
    print("answers identical to the one as heard (α 1), of", len(ids), ":",
          ", ".join(f"{name} {n}" for name, n in same_as_heard.items()))
    reproduced = sum(answers["α 1"][k].strip() == items[i]["speech"] for k, i in enumerate(ids))
    reproduced_mean = sum(answers["α 0"][k].strip() == items[i]["neutral"] for k, i in enumerate(ids))
    print(f"eval's answers reproduced: as heard {reproduced}/{len(ids)}, at the mean {reproduced_mean}/{len(ids)}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
