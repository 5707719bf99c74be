"""Session 49 (rule 55): teach the default's projector to write an accent where its frozen LLM reads one, offline.

Session 48 found that one free token at the norm bound makes the default's frozen LLM name any accent (48/48) while
the projector's own token carries none (probe 29.9). Two steps, no LLM training:
  offsets   for each accent c an additive offset d_c on the default's projected token (the sum re-held inside the norm
            bound), fitted with the default frozen on 96 train espeak clips: half the rows ask the accent (train
            phrasings, target c), half are keep rows (gender / pitch / rate questions, or the clip's own spoken question
            with no instruction) whose target is the default's own greedy answer with its own token; an L2 penalty
            keeps d_c small. Read on 48 other train clips asked dev phrasings.   -> runs/s49/offsets.safetensors
  regress   a copy of the default's projector gains the mean encoder state (`add_encoder_branch`) and is trained,
            full batch, to write P0(x) + d_accent(x) on every train espeak clip and P0(x) on the others.
            -> runs/s49/NAME-default: the default with that projector (`encoder_summary` true)
    python results/robust-hearing/s49/readout.py offsets > results/robust-hearing/s49/offsets.txt
    python results/robust-hearing/s49/readout.py regress [--name rd] > results/robust-hearing/s49/regress-rd.txt
  rule 56's arms: `regress --name rd50 --scale 0.5`; `offsets --keep 3 --keep-all --batch 12 --offsets
  runs/s49/offsets-rdk.safetensors`, then `regress --name rdk --offsets runs/s49/offsets-rdk.safetensors`
  rule 58's: `offsets --keep 2 --keep-tasks gender pitch rate style semantic --offsets
  runs/s49/offsets-rds.safetensors`,
  then `regress --name rds --bounded --offsets runs/s49/offsets-rds.safetensors`
"""
import argparse
import collections
import copy
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from textpro.data import paralinguistic
from textpro.data.labels import match_label
from textpro.slm import TextProSLM
from textpro.slm.featurize import FeatureStore
from textpro.slm.projector import bound_norm
from textpro.slm.readout import (
    OffsetProjector,
    fit_offset,
    readout_targets,
    regress_projector,
    write_readout_model,
)

torch.set_num_threads(2)
ACCENTS = ["american", "british", "scottish", "caribbean"]
KEEP_TASKS = ["gender", "pitch", "rate", "semantic"]  # rule 55's; rule 58 adds style
DEFAULT = Path("src/textpro/assets/default")
RUNS = Path("runs/s49")


def greedy(model, pairs, tokens=16):
    texts = []
    for k in range(0, len(pairs), 16):
        texts += model.generate(pairs[k:k + 16], max_new_tokens=tokens)
    return texts


def named(texts, phrasings, labels):
    return [match_label(t, labels, yes_label=p.asks[0] if p.form == "yes_no" else None)
            for t, p in zip(texts, phrasings, strict=True)]


def espeak_accent_clips(store):
    return [i for i, e in enumerate(store.index) if e["manifest"].get("accent") in ACCENTS
            and e["manifest"].get("engine", "espeak-ng") == "espeak-ng"]


def offsets(args):
    model = TextProSLM.from_pretrained(DEFAULT).eval().requires_grad_(False)
    projector, bound = model.projector, float(model.projector.max_norm)
    store = FeatureStore("runs/s9/features/train")
    rng = np.random.default_rng(0)
    by_accent = collections.defaultdict(list)
    for i in rng.permutation(espeak_accent_clips(store)).tolist():
        by_accent[store.index[i]["manifest"]["accent"]].append(i)
    fit_clips = [i for a in ACCENTS for i in by_accent[a][:24]]
    read_clips = [i for a in ACCENTS for i in by_accent[a][24:36]]
    semantic = [i for i, e in enumerate(store.index) if e["manifest"].get("task") == "semantic"]
    # keep rows: a task question (or the clip's own spoken question) answered as the default answers it
    keep = []
    # keep rows: rule 55 asks each fit / read clip one; --keep K asks K per fit clip, --keep-all about clips drawn from
    # every train clip (festival and piper too)
    keep_clips = fit_clips + read_clips
    if args.keep > 1 or args.keep_all:
        pool = [i for i, e in enumerate(store.index) if e["manifest"].get("task") != "semantic"] if args.keep_all \
            else fit_clips
        keep_clips = [int(rng.choice(pool)) for _ in range(args.keep * len(fit_clips))] + read_clips
    n_fit = len(keep_clips) - len(read_clips)
    for n, i in enumerate(keep_clips):
        task = args.keep_tasks[n % len(args.keep_tasks)]
        if task == "semantic":
            keep.append((store[int(rng.choice(semantic))], None, None, task))
        else:
            labels = paralinguistic.LABELS[task]
            phrasing = paralinguistic.choose_phrasing(task, "train" if n < n_fit else "dev",
                                                      labels[int(rng.integers(len(labels)))], rng)
            keep.append((store[i], phrasing.text, phrasing, task))
    with torch.no_grad():
        own = greedy(model, [(s, q) for s, q, _, _ in keep], tokens=24)
    keep_fit, keep_read = keep[:n_fit], keep[n_fit:]
    own_fit, own_read = own[:n_fit], own[n_fit:]
    read_truth = [store.index[i]["manifest"]["accent"] for i in read_clips]
    heard = [paralinguistic.choose_phrasing("accent", "dev", t, np.random.default_rng(k))
             for k, t in enumerate(read_truth)]
    with torch.no_grad():
        said = named(greedy(model, [(store[i], p.text) for i, p in zip(read_clips, heard, strict=True)]), heard,
                     ACCENTS)
    print(f"offsets on the default ({DEFAULT}); norm bound {bound:.2f}; fit on {len(fit_clips)} train espeak clips, "
          f"read on {len(read_clips)} others (dev phrasings); {args.steps} Adam steps of {args.batch} rows at lr "
          f"{args.lr}, L2 {args.l2}; {args.keep} keep row(s) per accent row, from "
          f"{'every train clip' if args.keep_all else 'the fit clips'}")
    print(f"as heard: accent right {sum(a == t for a, t in zip(said, read_truth, strict=True))}/{len(read_clips)}, "
          f"answers {dict(collections.Counter(said))}", flush=True)
    fitted = {}
    for label in ACCENTS:
        prng = np.random.default_rng(2)
        ask = [paralinguistic.choose_phrasing("accent", "train", label, prng) for _ in fit_clips]
        k = args.keep  # an accent row, then its k keep rows
        rows = [r for n, i in enumerate(fit_clips) for r in (
            [(store[i], ask[n].text, ask[n].target(label))]
            + [(keep_fit[m][0], keep_fit[m][1], own_fit[m]) for m in range(n * k, (n + 1) * k)])]
        offset = fit_offset(model, rows, args.steps, args.batch, args.lr, args.l2,
                            log=lambda step, loss, norm, label=label: print(
                                f"  {label}: step {step} answer loss {loss:.3f} |d| {norm:.2f}", flush=True))
        steer = OffsetProjector(projector, bound)
        with torch.no_grad():
            steer.offset.copy_(offset)
        model.projector = steer
        with torch.no_grad():
            asked = [paralinguistic.choose_phrasing("accent", "dev", label, np.random.default_rng(100 + k))
                     for k in range(len(read_clips))]
            said = named(greedy(model, [(store[i], p.text) for i, p in zip(read_clips, asked, strict=True)]),
                         asked, ACCENTS)
            kept = greedy(model, [(s, q) for s, q, _, _ in keep_read], tokens=24)
        same = collections.Counter(t for t, a, b in zip((k[3] for k in keep_read), kept, own_read, strict=True)
                                   if a == b)
        print(f"{label}: |d| {float(steer.offset.norm()):.2f} -> names {label} on "
              f"{sum(a == label for a in said)}/{len(read_clips)} read clips (dev phrasings), answers "
              f"{dict(collections.Counter(said))}; keep rows answered as the default: "
              f"{sum(same.values())}/{len(keep_read)} {dict(same)}", flush=True)
        fitted[label] = steer.offset.detach().clone()
        model.projector = projector
    save_file(fitted, args.offsets)


def projector_inputs(model, records):
    rows = np.concatenate([model.builder.speech(r)[1] for r in records])  # (N, d + k): global injection, one each
    return torch.tensor(rows, dtype=torch.float32)


def regress(args):
    model = TextProSLM.from_pretrained(DEFAULT).eval().requires_grad_(False)
    p0, offset = model.projector, load_file(args.offsets)
    store = FeatureStore("runs/s9/features/train")
    records = [store[i] for i in range(len(store.index))]
    X = projector_inputs(model, records)
    E = torch.tensor(np.array([r["encoder_mean"] for r in records]), dtype=torch.float32)
    accent = [e["manifest"].get("accent") if e["manifest"].get("engine", "espeak-ng") == "espeak-ng" else None
              for e in store.index]
    bound = float(p0.max_norm)
    offsets = torch.stack([offset[a] if a in ACCENTS else torch.zeros_like(offset["american"]) for a in accent])
    if args.bounded:  # the token the offsets were fitted on: the sum held inside the norm bound
        target = readout_targets(p0, X, offsets, args.scale)
    else:  # rule 55's rd: the raw sum
        with torch.no_grad():
            target = p0(X) + args.scale * offsets
    XE = torch.cat([X, E], dim=1)
    dev = FeatureStore("runs/s19/feat/dev_accent210")
    dev_records = [dev[i] for i in range(len(dev.index))]
    XEd = torch.cat([projector_inputs(model, dev_records),
                     torch.tensor(np.array([r["encoder_mean"] for r in dev_records]), dtype=torch.float32)], dim=1)
    dev_truth = [e["manifest"].get("reference") for e in dev.index]
    directions = torch.stack([offset[a] for a in ACCENTS])  # (4, d_llm)
    # unseen voices (dev_unseen, flite; read, never trained on): how far the token moves, and how much of that lies
    # outside the offsets' span (what no offset fitted for: the regression's error on a voice it never saw)
    unseen = FeatureStore("runs/s9/feat/bigdev_default")
    unseen_records = [unseen[i] for i in range(0, len(unseen.index), 3)]
    XEu = torch.cat([projector_inputs(model, unseen_records),
                     torch.tensor(np.array([r["encoder_mean"] for r in unseen_records]), dtype=torch.float32)], dim=1)
    print(f"regress: {len(records)} train clips ({sum(a in ACCENTS for a in accent)} with an accent offset), "
          f"{args.steps} full-batch AdamW steps at lr {args.lr} (weight decay {args.weight_decay}), "
          f"training {args.train}, {'bounded' if args.bounded else 'raw'} output, "
          f"offset scale {args.scale}")

    def report(step, projector):  # called in eval mode, without gradients
        moved = projector(XEd) - p0(XEd[:, :X.shape[1]])  # (N_dev, d_llm)
        nearest = (moved @ directions.T / directions.norm(dim=1) ** 2).argmax(1)
        right = [ACCENTS[int(k)] == t for k, t in zip(nearest, dev_truth, strict=True)]
        per = {a: np.mean([r for r, t in zip(right, dev_truth, strict=True) if t == a]) for a in ACCENTS}
        fit = (projector(XE) - target).pow(2).sum(1).mean() / target.pow(2).sum(1).mean()
        shift = bound_norm(projector(XEu), bound) - p0(XEu[:, :X.shape[1]])  # (N_unseen, d_llm)
        outside = shift - torch.linalg.lstsq(directions.T, shift.T).solution.T @ directions
        print(f"step {step:4d}  train residual {float(fit):.4f}  dev: offset nearest the true accent's "
              f"{100 * np.mean(list(per.values())):5.1f}% balanced {({a: round(100 * v) for a, v in per.items()})}"
              f"  unseen: token moved {float(shift.norm(dim=1).mean()):.2f}, outside the offsets' span "
              f"{float(outside.norm(dim=1).mean()):.2f}", flush=True)

    if args.bounded and args.train == "all" and not args.weight_decay:  # what `textpro readout` does
        projector = regress_projector(p0, X, E, target, args.steps, args.lr, log=report)
    else:  # rules 55-57's other fits: the raw output, the encoder weight alone, weight decay
        projector = copy.deepcopy(p0).float()
        projector.add_encoder_branch(E.shape[1])
        projector.fit_encoder_input(E)
        projector.requires_grad_(True).train()
        if args.train == "encoder":  # only the new encoder-mean weight moves: the rest stays the default's
            projector.requires_grad_(False)
            projector.linear_encoder.requires_grad_(True)
        if not args.bounded:  # the raw output regressed onto the raw sum (the bound goes back on at the end)
            projector.max_norm.fill_(float("inf"))
        optimizer = torch.optim.AdamW([p for p in projector.parameters() if p.requires_grad], lr=args.lr,
                                      weight_decay=args.weight_decay)
        for step in range(args.steps + 1):
            if step % 100 == 0:
                with torch.no_grad():
                    report(step, projector.eval())
                projector.train()
            if step == args.steps:
                break
            loss = (projector(XE) - target).pow(2).sum(1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        projector.max_norm.fill_(bound)
    out = RUNS / f"{args.name}-default"
    if out.exists():
        shutil.rmtree(out)
    write_readout_model(DEFAULT, projector.eval(), out, {"script": "results/robust-hearing/s49/readout.py",
                                                         "args": vars(args)})
    print(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["offsets", "regress"])
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--l2", type=float, default=0.01)
    parser.add_argument("--scale", type=float, default=1.0, help="regress: the offsets' multiple in the target")
    parser.add_argument("--name", default="rd")
    parser.add_argument("--offsets", default=str(RUNS / "offsets.safetensors"),
                        help="the offsets' file: written by offsets, read by regress")
    parser.add_argument("--bounded", action="store_true",
                        help="regress: the bounded token onto the bounded sum (rd: the raw output onto the raw sum)")
    parser.add_argument("--train", choices=["all", "encoder"], default="all", help="regress: what moves")
    parser.add_argument("--weight-decay", type=float, default=0.0, help="regress: AdamW's")
    parser.add_argument("--keep", type=int, default=1, help="offsets: keep rows per accent row")
    parser.add_argument("--keep-tasks", nargs="+", default=KEEP_TASKS, help="offsets: what keep rows ask")
    parser.add_argument("--keep-all", action="store_true", help="offsets: keep rows about any train clip")
    args = parser.parse_args()
    RUNS.mkdir(parents=True, exist_ok=True)
    if args.step == "offsets":
        args.steps, args.lr = args.steps or 40, args.lr or 0.05
        offsets(args)
    else:
        args.steps, args.lr = args.steps or 600, args.lr or 1e-3
        regress(args)


if __name__ == "__main__":
    main()
