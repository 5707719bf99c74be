"""Session 48: can one placeholder token, at the projector's norm bound, make the default's frozen LLM name an accent?

Rule 53 found that three times the accent rows in the projector's step do not move the accent answers (dev 28.7 ->
29.2) and that the projected token keeps no more accent than before (probe 29.9 -> 29.4, its input carries 49.4). Two
breaks are possible: the projector does not write accent into the token, or the LLM (with its frozen, gated adapter)
does not read an accent from that token at all. This tests the second alone. For each accent c, one free vector v_c
takes the place of the projected token in every prompt (the clip's transcript kept) and is fitted (Adam, held inside
the projector's norm bound after each step) so that the model answers c to train phrasings of the accent question
about 48 training clips; then greedy answers with v_c are read on 48 other clips asked dev phrasings (never used in
training), against the same clips heard as they are (the default's own projected token). If a bounded v_c steers
the answers to c, a readout exists and the projector must learn to write it; if not, the LLM side must learn to read.
    python results/robust-hearing/s48/steer.py [MODEL] > results/robust-hearing/s48/steer.txt
    python results/robust-hearing/s48/steer.py --joint [MODEL] > results/robust-hearing/s48/steer-joint.txt
--joint: one free vector per (accent, gender) pair, fitted on accent and gender questions alike (half each), read on
both: can one bounded token say the accent and keep the gender, as the projected token must?
"""
import collections
import sys

import numpy as np
import torch
from torch import nn

from textpro.data import paralinguistic
from textpro.data.labels import match_label
from textpro.slm import TextProSLM
from textpro.slm.featurize import FeatureStore

torch.set_num_threads(2)
torch.manual_seed(0)
ACCENTS = ["american", "british", "scottish", "caribbean"]
STEPS, BATCH, LR = 40, 8, 0.05


class FreeToken(nn.Module):
    """Stands in for the projector: every placeholder reads the same vector."""

    def __init__(self, vector):
        super().__init__()
        self.vector = nn.Parameter(vector.clone())

    def forward(self, prosody):  # (P, d_in) -> (P, d_llm)
        return self.vector.expand(prosody.shape[0], -1)


def prompts(store, indices, split, label, rng, task="accent"):
    """(speech, instruction, target, phrasing) asking each clip a phrasing of `split` as if its `task` label were
    `label`."""
    rows = []
    for i in indices:
        phrasing = paralinguistic.choose_phrasing(task, split, label, rng, own_share=1.0)
        rows.append((store[i], phrasing.text, phrasing.target(label), phrasing))
    return rows


def answers(model, rows, labels=ACCENTS):
    texts = []
    for k in range(0, len(rows), 16):
        texts += model.generate([(s, q) for s, q, _, _ in rows[k:k + 16]], max_new_tokens=12)
    named = []
    for text, (_, _, _, phrasing) in zip(texts, rows, strict=True):
        yes_label = phrasing.asks[0] if phrasing.form == "yes_no" else None
        named.append(match_label(text, labels, yes_label=yes_label))
    return named


def fit_token(model, start, bound, rows, name):
    """A FreeToken fitted on (speech, instruction, target, phrasing) rows, installed as the model's projector."""
    free = FreeToken(start)
    model.projector = free
    optimizer = torch.optim.Adam(free.parameters(), lr=LR)
    for step in range(STEPS):
        batch = [rows[(step * BATCH + j) % len(rows)] for j in range(BATCH)]
        loss = model(**model.builder.build_training_batch([(s, q, t) for s, q, t, _ in batch])).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            norm = free.vector.norm()
            if norm > bound:
                free.vector.mul_(bound / norm)
        if step in (0, STEPS - 1):
            print(f"  {name}: step {step + 1} loss {loss.item():.3f}")
    return free


def joint(model, store, fit_clips, test_clips, start, bound):
    projector = model.projector
    for accent, gender in (("american", "male"), ("british", "female"), ("scottish", "male"), ("caribbean", "female")):
        rows = [r for pair in zip(prompts(store, fit_clips, "train", accent, np.random.default_rng(2)),
                                  prompts(store, fit_clips, "train", gender, np.random.default_rng(4), "gender"),
                                  strict=True) for r in pair]
        free = fit_token(model, start, bound, rows, f"{accent} + {gender}")
        with torch.no_grad():
            said_accent = answers(model, prompts(store, test_clips, "dev", accent, np.random.default_rng(3)))
            said_gender = answers(model, prompts(store, test_clips, "dev", gender, np.random.default_rng(5), "gender"),
                                  ["male", "female"])
        hits_accent, hits_gender = sum(a == accent for a in said_accent), sum(a == gender for a in said_gender)
        print(f"{accent} + {gender}: free token (norm {float(free.vector.norm()):.2f}) -> accent {accent} on "
              f"{hits_accent}/48, gender {gender} on {hits_gender}/48 held-out clips (dev phrasings); accent answers "
              f"{dict(collections.Counter(said_accent))}", flush=True)
        model.projector = projector


def main():
    args = [a for a in sys.argv[1:] if a != "--joint"]
    path = args[0] if args else "src/textpro/assets/default"
    model = TextProSLM.from_pretrained(path).eval().requires_grad_(False)
    projector, bound = model.projector, float(model.projector.max_norm)
    store = FeatureStore("runs/s9/features/train")
    espeak = [i for i, e in enumerate(store.index) if e["manifest"].get("accent") in ACCENTS
              and e["manifest"].get("engine", "espeak-ng") == "espeak-ng"]
    rng = np.random.default_rng(0)
    picked = rng.permutation(espeak)[:96].tolist()
    fit_clips, test_clips = picked[:48], picked[48:]
    with torch.no_grad():  # start from the clips' mean projected token (inside the bound)
        start = projector(torch.tensor(np.concatenate([model.builder.speech(store[i])[1] for i in fit_clips]))).mean(0)
    print(f"model {path}; norm bound {bound:.2f}; start: the fit clips' mean projected token (norm "
          f"{float(start.norm()):.2f}); {STEPS} Adam steps of {BATCH} prompts at lr {LR}")
    if "--joint" in sys.argv:
        return joint(model, store, fit_clips, test_clips, start, bound)
    truth = [store.index[i]["manifest"]["accent"] for i in test_clips]
    rng = np.random.default_rng(1)  # each clip asked a dev phrasing drawn for its own accent
    heard = [row for i, t in zip(test_clips, truth, strict=True) for row in prompts(store, [i], "dev", t, rng)]
    named = answers(model, heard)
    right = sum(a == t for a, t in zip(named, truth, strict=True))
    print(f"as heard (own projected token), 48 held-out clips, dev phrasings: right {right}/48, answers "
          f"{dict(collections.Counter(named))}")
    for label in ACCENTS:
        free = fit_token(model, start, bound, prompts(store, fit_clips, "train", label, np.random.default_rng(2)),
                         label)
        with torch.no_grad():
            rows = prompts(store, test_clips, "dev", label, np.random.default_rng(3))
            named = answers(model, rows)
        hits = sum(a == label for a in named)
        print(f"{label}: free token (norm {float(free.vector.norm()):.2f}, cosine to start "
              f"{float(torch.cosine_similarity(free.vector, start, dim=0)):.3f}) -> names {label} on {hits}/48 "
              f"held-out clips (dev phrasings); answers {dict(collections.Counter(named))}", flush=True)
        model.projector = projector


if __name__ == "__main__":
    main()
