"""Session 30: can a per-turn gate tell a question about the voice from a content turn by the user's words alone?

A what-if before building anything: a logistic regression on the mean input embedding of the user turn's tokens
(transcript + instruction, placeholders left out; the LLM's frozen embedding table) is fitted on the default step's
training rows (paralinguistic rows = 1, content rows = 0, `s22/hacc85-args.sh`'s data) and read on turns it never saw:
the dev and held-out probe phrasings over dev_unseen clip transcripts, the 300 dev_unseen spoken questions and the
53 dev_unseen spoken requests (reference texts). Prints the share of each set on the right side of 0.5 and the range.
  gate_probe.py [--rows N]
"""
import argparse
import json
import random
from pathlib import Path

import torch

from textpro.data.paralinguistic import read_phrasings
from textpro.slm.model import TextProSLM
from textpro.slm.tasks import distillation_examples, paralinguistic_examples
from textpro.slm.training import SLMTrainingConfig
from textpro.slm.featurize import FeatureStore

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=3000)
ap.add_argument("--pool", choices=["mean", "meanmax"], default="mean", help="how the user turn's embeddings are pooled")
args = ap.parse_args()
random.seed(0)
torch.manual_seed(0)
slm = TextProSLM.from_pretrained("src/textpro/assets/default")
table = slm.llm.get_input_embeddings().weight.detach()  # (V, d)
builder = slm.builder


def user_mean(text: str, instruction: str | None) -> torch.Tensor:
    """Mean embedding of the user turn's own tokens: transcript, separator, instruction (what follows the template's
    head), the placeholder and the template's constant end left in/out as the model would see them."""
    speech = {"text": text, "token_ids": [], "prosody": [[0.0]], "utterance": [0.0]}
    before, _, _, _ = builder.template(instruction)
    ids = builder.tokenizer.encode(text, add_special_tokens=False)
    after = builder.template(instruction)[1]
    user = [i for i in ids + after if i != builder.placeholder_id]
    del speech, before
    e = table[user].float()  # (T, d)
    return e.mean(0) if args.pool == "mean" else torch.cat([e.mean(0), e.amax(0)])


cfg = SLMTrainingConfig.from_yaml("results/robust-hearing/s11/cont-yn.yaml", stage=2)
stores = [FeatureStore(d) for d in cfg.features]
para = paralinguistic_examples(stores, cfg.paralinguistic)
content = distillation_examples(stores, cfg.distill)
texts = {}


def transcript(e):
    if e.text is not None:
        return e.text
    key = (e.store, e.index)
    if key not in texts:
        texts[key] = stores[e.store][e.index]["text"]
    return texts[key]


train = [(e, 1) for e in random.sample(para, min(args.rows // 2, len(para)))] + \
        [(e, 0) for e in random.sample(content, min(args.rows // 2, len(content)))]
x = torch.stack([user_mean(transcript(e), e.instruction) for e, _ in train])
y = torch.tensor([float(t) for _, t in train])
mu, sd = x.mean(0), x.std(0) + 1e-6
w = torch.zeros(x.shape[1], requires_grad=True)
b = torch.zeros((), requires_grad=True)
opt = torch.optim.Adam([w, b], lr=0.05)
for _ in range(300):
    opt.zero_grad()
    loss = torch.nn.functional.binary_cross_entropy_with_logits((x - mu) / sd @ w + b, y) + 1e-3 * w.square().sum()
    loss.backward()
    opt.step()
gate = lambda xs: torch.sigmoid((torch.stack(xs) - mu) / sd @ w + b).detach()  # noqa: E731
print(f"fitted on {len(para)} paralinguistic / {len(content)} content rows (sampled {len(train)}), "
      f"train loss {loss.item():.4f}, train accuracy {((gate(list(x)) > 0.5).float() == y).float().mean():.3f}")

dev = FeatureStore("runs/s9/feat/bigdev_default")
clip_texts = [dev[i]["text"] for i in random.sample(range(len(dev)), 60)]
sets = {}
for name, path, split in (("dev phrasings", "src/textpro/data/phrasings.yaml", "dev"),
                          ("probe phrasings", "results/robust-hearing/s10/probe-phrasings.yaml", "probe"),
                          ("train phrasings", "src/textpro/data/phrasings.yaml", "train")):
    for task, splits in read_phrasings(Path(path)).items():
        for p in splits.get(split, []):
            sets.setdefault(name, []).append((f"{task}: {p.text}", user_mean(random.choice(clip_texts), p.text)))
for name, bench in (("300 spoken questions", "runs/s12/bigsem"), ("53 spoken requests", "runs/s15/bigreq")):
    rows = [json.loads(line) for line in open(Path(bench) / "dev_unseen.jsonl")]
    rows = [r for r in rows if r["task"] in ("semantic", "request")]
    sets[name] = [(r["text"], user_mean(r["text"], None)) for r in rows]
for name, items in sets.items():
    g = gate([v for _, v in items])
    want_open = "phrasings" in name
    right = (g > 0.5) if want_open else (g < 0.5)
    print(f"{name:22s} n {len(items):3d}  right side {100 * right.float().mean():5.1f}%  gate min {g.min():.3f} "
          f"median {g.median():.3f} max {g.max():.3f}")
    for (text, _), gi, ok in zip(items, g.tolist(), right.tolist()):
        if not ok:
            print(f"    {gi:.3f}  {text[:90]!r}")
