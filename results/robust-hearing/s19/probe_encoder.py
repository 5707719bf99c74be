"""Session 19: what a linear probe reads from the clip's mean WhisperPro encoder state against the decoder-layer
utterance vector (the learned vector the SLM read until now). Fitted on the train cache, scored on dev sets:
accent on the mini world's 210 dev clips (espeak voices), gender on the 360-clip flite dev_unseen and on the 62
recorded clips (runs/s13/recorded-62.jsonl under /tmp/recorded, benchmarks/recorded_gender.py). Balanced accuracy.
    python results/robust-hearing/s19/probe_encoder.py > results/robust-hearing/s19/probe_encoder.txt   (~2 min)
"""
import json

import numpy as np
import soundfile as sf
import torch

from textpro.slm.featurize import FeatureStore
from textpro.whisperpro.transcribe import Transcriber

torch.set_num_threads(2)
ACCENTS = ["american", "british", "scottish", "caribbean"]


def rows(store, key, field, labels, task_field=False):
    X, y = [], []
    for r in store:
        label = r["manifest"].get("reference") if task_field else r["manifest"].get(field)
        if label in labels:
            X.append(r[key])
            y.append(labels.index(label))
    return np.array(X), np.array(y)


def fit(X, y, classes, wd):
    mean, std = X.mean(0), X.std(0) + 1e-5
    linear = torch.nn.Linear(X.shape[1], classes)
    opt = torch.optim.LBFGS(linear.parameters(), max_iter=300)
    Xt, yt = torch.tensor((X - mean) / std).float(), torch.tensor(y)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(linear(Xt), yt) + wd * linear.weight.pow(2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    return lambda Z: linear(torch.tensor((Z - mean) / std).float()).argmax(1).numpy()


def balanced(pred, y):
    return 100 * np.mean([np.mean(pred[y == k] == k) for k in np.unique(y)])


def main() -> None:
    train = FeatureStore("runs/s19/features/train")
    accent_dev, gender_dev = FeatureStore("runs/s19/feat/dev_accent210"), FeatureStore("runs/s19/feat/bigdev")
    recorded = [json.loads(line) for line in open("runs/s13/recorded-62.jsonl")]
    transcriber = Transcriber.from_pretrained("src/textpro/assets/default/whisperpro")
    clips = [sf.read("/tmp/recorded/" + r["audio"], dtype="float32")[0] for r in recorded]
    recorded_encoder = np.array([states.mean(0) for i in range(0, len(clips), 8)
                                 for states in transcriber.encoder_states(clips[i:i + 8])])
    recorded_gender = np.array([int(r["gender"] == "female") for r in recorded])
    english = np.array([r["language"] == "en" for r in recorded])
    for key in ("encoder_mean", "utterance"):
        X, y = rows(train, key, "accent", ACCENTS)
        Xd, yd = rows(accent_dev, key, "accent", ACCENTS, task_field=True)
        for wd in (1e-2, 1e-1):
            score = balanced(fit(X, y, 4, wd)(Xd), yd)
            print(f"accent  {key:12s} wd {wd}: train n {len(y)}, dev n {len(yd)}: {score:.1f}")
        X, y = rows(train, key, "gender", ["male", "female"])
        Xd, yd = rows(gender_dev, key, "gender", ["male", "female"])
        for wd in (1e-2, 1e-1):
            probe = fit(X, y, 2, wd)
            line = (f"gender  {key:12s} wd {wd}: train n {len(y)}, flite dev_unseen n {len(yd)}: "
                    f"{balanced(probe(Xd), yd):.1f}")
            if key == "encoder_mean":
                pred = probe(recorded_encoder)
                men = {r["speaker"]: [] for r in recorded if r["gender"] == "male"}
                for r, p in zip(recorded, pred, strict=True):
                    if r["gender"] == "male":
                        men[r["speaker"]].append(int(p == 0))
                line += (f"; recorded n 62: {balanced(pred, recorded_gender):.1f}, English n {english.sum()}: "
                         f"{balanced(pred[english], recorded_gender[english]):.1f}; men called male: "
                         + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in men.items()))
            print(line, flush=True)


if __name__ == "__main__":
    main()
