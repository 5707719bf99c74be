"""Session 20: does a model's accent answer depend on the clip at all? For 60 espeak clips of a feature cache (every
k-th, four accents), the mean log-probability per token of each accent label ("American", ...) as the answer to
"What accent does the speaker have?", averaged per true accent. A model that hears accent puts its highest value on
the diagonal; rows that are the same whatever the true accent mean the answer ignores the input.
    python accent_logprobs.py MODEL... > accent_logprobs.txt
    (caches: runs/s19/feat/dev_accent210, runs/s9/features/train)
    TASK=gender python accent_logprobs.py MODEL > gender_logprobs.txt   the control: "Male"/"Female" to "Is the speaker
    male or female?" on the same clips, where the model does hear (the diagonal must stand out)
"""
import collections
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
from hearing_check import load_model  # noqa: E402

from textpro.slm.featurize import FeatureStore  # noqa: E402

GENDER = os.environ.get("TASK") == "gender"
LABELS = ["male", "female"] if GENDER else ["american", "british", "scottish", "caribbean"]
QUESTION = "Is the speaker male or female?" if GENDER else "What accent does the speaker have?"
torch.set_num_threads(2)
for cache, field in (("runs/s19/feat/dev_accent210", "gender" if GENDER else "reference"),
                     ("runs/s9/features/train", "gender" if GENDER else "accent")):
    store = FeatureStore(cache)
    picked = [i for i, e in enumerate(store.index) if e["manifest"].get(field) in LABELS
              and e["manifest"].get("engine", "espeak-ng") == "espeak-ng"]
    picked = picked[::max(1, len(picked) // 60)][:60]
    for path in sys.argv[1:]:
        model = load_model(Path(path))
        total, n = collections.defaultdict(lambda: np.zeros(len(LABELS))), collections.Counter()
        for i in picked:
            true = store.index[i]["manifest"][field]
            total[true] += model.response_logprobs([(store[i], QUESTION, x.capitalize()) for x in LABELS])
            n[true] += 1
        print(f"{Path(cache).name} {path} n {len(picked)}")
        for true in LABELS:
            row = total[true] / max(n[true], 1)
            scores = " ".join(f"{x[:4]} {v:6.2f}" for x, v in zip(LABELS, row, strict=True))
            print(f"  true {true:10s} n {n[true]:2d} mean logprob {scores}")
