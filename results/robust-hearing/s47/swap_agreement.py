"""Session 47: agreement against *another real voice* instead of the mean voice. The mean voice is a point no clip
reaches (s47/geometry.txt: its projected vector is 1.2 median inter-clip distances from the nearest clip's, a clip's
nearest neighbour 0.15), so `textpro eval`'s agreement reads how the LLM takes an unfamiliar placeholder. Here each of
the 300 dev_unseen questions (runs/s12/bigsem) is asked again with the utterance vector and measured acoustics of
another question's clip (a random derangement; two of them), transcript and instruction kept: the share of identical
answers, and the accuracy, beside the heard and prosody-neutral answers of `textpro eval` (devcheck.sh's cache for
g 1.0, checked item by item against this script's own heard answers).

    OMP_NUM_THREADS=2 .venv/bin/python results/robust-hearing/s47/swap_agreement.py \
        > results/robust-hearing/s47/swap_agreement.txt
"""
import dataclasses
import json

import numpy as np

from textpro.eval.bench import load_bench
from textpro.eval.harness import agreement, score_mcq
from textpro.eval.responders import SLMResponder

DEFAULT = "runs/s47/model-g1.0"  # the embedded default's files (devcheck.sh's directory for g 1.0)
CACHE = "runs/s47/eval-g1.0-dev_unseen-bigsem/responses.jsonl"


def cached(side: str) -> dict[str, str]:
    rows = (json.loads(line) for line in open(CACHE))
    return {r["id"]: r["response"] for r in rows if r["side"] == side and r["task"] == "semantic"}


def derangement(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    while True:
        perm = rng.permutation(n)
        if not (perm == np.arange(n)).any():
            return perm


def main() -> None:
    items = [i for i in load_bench("runs/s12/bigsem", "dev_unseen") if i.task == "semantic"]
    responder = SLMResponder.from_pretrained(DEFAULT)
    slm = responder.pipeline.slm
    speech = responder.pipeline.listen([str(i.audio_path) for i in items])
    instructions = [i.instruction for i in items]
    answers = {"heard": slm.generate(list(zip(speech, instructions, strict=True)),
                                     max_new_tokens=responder.max_new_tokens)}
    for seed in (0, 1):
        perm = derangement(len(items), seed)
        other = [dataclasses.replace(s, utterance=speech[j].utterance, acoustics=speech[j].acoustics)
                 for s, j in zip(speech, perm, strict=True)]
        answers[f"another voice ({seed})"] = slm.generate(list(zip(other, instructions, strict=True)),
                                                          max_new_tokens=responder.max_new_tokens)
    by_id = {name: {i.id: a for i, a in zip(items, got, strict=True)} for name, got in answers.items()}
    eval_heard, eval_neutral = cached("speech"), cached("neutral")
    same = sum(eval_heard[i.id].strip() == by_id["heard"][i.id].strip() for i in items)
    print(f"{len(items)} questions; this script's heard answers equal textpro eval's on {same}")
    by_id["mean voice (textpro eval)"] = eval_neutral
    print("| answers | accuracy | identical to heard |\n|---|---|---|")
    for name, got in by_id.items():
        print(f"| {name} | {score_mcq(items, got).accuracy:.1f} | {agreement(items, by_id['heard'], got):.1f} |")
    print(f"\nthe two other-voice runs agree with each other on "
          f"{agreement(items, by_id['another voice (0)'], by_id['another voice (1)']):.1f}%")


if __name__ == "__main__":
    main()
