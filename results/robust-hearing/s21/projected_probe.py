"""Session 21: where is accent lost on its way to the LLM? A linear probe (s19/probe_encoder.py's) fitted on the train
cache's espeak clips and scored on the 210 dev accent clips, on three inputs of each model: the learned vector, the
mean encoder state and the projector's output (the one token the LLM reads). Also the share of the projected token's
variance that lies between the four accents' means (between-class / total), and gender beside it as the control.
    python results/robust-hearing/s21/projected_probe.py MODEL... > results/robust-hearing/s21/projected_probe.txt
"""
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "s19"))
sys.path.insert(0, str(HERE.parents[1] / "benchmarks"))
from hearing_check import load_model  # noqa: E402
from probe_encoder import ACCENTS, balanced, fit  # noqa: E402

from textpro.slm.featurize import FeatureStore  # noqa: E402

torch.set_num_threads(2)
TASKS = {"accent": ACCENTS, "gender": ["male", "female"]}


def records(store, task, dev):
    """(records, labels) of the store's espeak clips with a label for task (dev: the accent set's own task label)."""
    out, y = [], []
    for i, entry in enumerate(store.index):
        m = entry["manifest"]
        label = m.get("reference") if dev and task == "accent" else m.get(task)
        if label in TASKS[task] and m.get("engine", "espeak-ng") == "espeak-ng":
            out.append(store[i])
            y.append(TASKS[task].index(label))
    return out, np.array(y)


@torch.no_grad()
def projected(model, recs):
    rows = np.concatenate([model.builder.speech(r)[1] for r in recs])  # (N, d + k + e): global injection, one row each
    return model.projector(torch.tensor(rows)).float().numpy()  # (N, d_llm)


def between_share(X, y):
    """Share of the total variance that lies between the class means."""
    mean = X.mean(0)
    between = sum((y == k).sum() * np.sum((X[y == k].mean(0) - mean) ** 2) for k in np.unique(y))
    return between / np.sum((X - mean) ** 2)


train, dev = FeatureStore("runs/s9/features/train"), FeatureStore("runs/s19/feat/dev_accent210")
for task in TASKS:
    (tr, y), (dv, yd) = records(train, task, False), records(dev, task, True)
    print(f"{task}: train n {len(y)}, dev n {len(yd)} (balanced %, linear probe wd 0.1; between-class share of the "
          "variance on train)")
    for key in ("utterance", "encoder_mean"):
        X, Xd = np.array([r[key] for r in tr]), np.array([r[key] for r in dv])
        print(f"  input {key:14s} probe {balanced(fit(X, y, len(TASKS[task]), 0.1)(Xd), yd):5.1f}  "
              f"between {between_share(X, y):.3f}")
    for path in sys.argv[1:]:
        model = load_model(Path(path))
        X, Xd = projected(model, tr), projected(model, dv)
        print(f"  projected {path:40s} probe {balanced(fit(X, y, len(TASKS[task]), 0.1)(Xd), yd):5.1f}  "
              f"between {between_share(X, y):.3f}", flush=True)
