"""At what pitch does a TextPro-SLM's gender answer switch from male to female, and does that depend on the wording?

A balanced accuracy on 120 clips moves by whole clips; this reads the decision itself. For every gender clip of a
feature cache and every gender phrasing of the chosen phrasing sets, it takes the first answer token's log-odds
`gap = logsumexp(female, Female) − logsumexp(male, Male)` (every form of our gender answers starts with the label:
"male", "Female, so no.") at the clip's own acoustics and with only its F0 feature moved along a grid (80 … 250 Hz;
the learned vector and the other five acoustics kept). The **switch F0** of a (clip, phrasing) is where the gap
crosses zero (interpolated in log F0). flite's male voices on dev_unseen reach 129 Hz and its female voice starts at
163 Hz, and the mini world's acoustic rule puts the line at 144 Hz: a model that hears gender the way the rule does
switches near there for every clip and wording; one that switches at 110 Hz calls a 120 Hz man a woman.

    python benchmarks/gender_boundary.py MODEL FEATURES [--sets dev probe] [--limit N] [--threads T] [--plot PNG]

Prints, per phrasing: accuracy at the clips' own F0 (sign of the gap), the median switch F0 and its 10–90th
percentile range over the clips, and the share of (clip, phrasing) pairs that switch outside 130–160 Hz.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import numpy as np
import torch

GRID_HZ = np.array([80, 95, 110, 125, 140, 155, 170, 190, 220, 250], dtype=np.float64)
PROBE = Path(__file__).parent.parent / "results/robust-hearing/s10/probe-phrasings.yaml"


def label_token_ids(tokenizer, label: str) -> list[int]:
    """First token of the label as an answer begins with it, lower and capitalised."""
    return sorted({tokenizer.encode(word)[0] for word in (label, label.capitalize())})


def gaps(slm, records: list[dict], question: str, f0_octaves: np.ndarray | None, ids, batch_size: int) -> np.ndarray:
    """(clips,) log-odds female − male of the first answer token; f0_octaves (clips,) overrides the F0 feature."""
    out = []
    for start in range(0, len(records), batch_size):
        chunk = records[start:start + batch_size]
        if f0_octaves is not None:
            moved = f0_octaves[start:start + batch_size]
            chunk = [{**r, "acoustics": np.array([f0, *r["acoustics"][1:]], dtype=np.float32)}
                     for r, f0 in zip(chunk, moved, strict=True)]
        batch = slm.builder.build_generation_batch([(r, question) for r in chunk])
        with torch.no_grad():
            embeds = slm.embed(batch["input_ids"], batch["prosody_vectors"], batch["prosody_mask"])
            logp = slm.llm(inputs_embeds=embeds, attention_mask=batch["attention_mask"]).logits[:, -1].log_softmax(-1)
        out.append((logp[:, ids["female"]].logsumexp(-1) - logp[:, ids["male"]].logsumexp(-1)).numpy())
    return np.concatenate(out)


def switch_points(curves: np.ndarray) -> np.ndarray:
    """curves (clips, grid) of gaps -> (clips,) F0 in Hz of the first upward zero crossing (log-interpolated);
    0 where the answer is female on the whole grid, inf where it never turns female."""
    log_grid = np.log(GRID_HZ)
    out = np.full(len(curves), np.inf)
    for n, gap in enumerate(curves):
        if gap[0] > 0:
            out[n] = 0.0
            continue
        for k in range(len(gap) - 1):
            if gap[k] <= 0 < gap[k + 1]:
                t = -gap[k] / (gap[k + 1] - gap[k])
                out[n] = float(np.exp(log_grid[k] + t * (log_grid[k + 1] - log_grid[k])))
                break
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="TextPro-SLM directory")
    parser.add_argument("features", type=Path, help="feature cache directory (textpro featurize) with gender clips")
    parser.add_argument("--sets", nargs="+", default=["dev", "probe"],
                        help="phrasing sets: dev (phrasings.yaml's dev split) and/or probe (the held-out pool)")
    parser.add_argument("--limit", type=int, default=0, help="at most N gender clips, evenly spaced (0: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--plot", type=Path, help="write the median gap along the F0 grid, one line per phrasing")
    args = parser.parse_args(argv)

    from textpro.data.paralinguistic import PHRASINGS, read_phrasings
    from textpro.slm import TextProSLM
    from textpro.slm.featurize import FeatureStore

    torch.set_num_threads(args.threads)
    slm = TextProSLM.from_pretrained(args.model).eval()
    store = FeatureStore(args.features)
    rows = [i for i, e in enumerate(store.index) if e["manifest"].get("task") == "gender"]
    if args.limit:
        rows = rows[::max(1, len(rows) // args.limit)][:args.limit]
    records = [store[i] for i in rows]
    manifests = [store.index[i]["manifest"] for i in rows]
    female = np.array([m["reference"] == "female" for m in manifests])
    own_f0 = np.array([150 * 2 ** float(r["acoustics"][0]) for r in records])
    ids = {label: label_token_ids(slm.tokenizer, label) for label in ("male", "female")}
    if set(ids["male"]) & set(ids["female"]):
        raise SystemExit(f"'male' and 'female' share a first token in this tokenizer: {ids}")

    pools = {"dev": lambda: PHRASINGS["gender"]["dev"], "probe": lambda: read_phrasings(PROBE)["gender"]["probe"]}
    questions = [(name, p.form, p.text) for name in args.sets for p in pools[name]()]
    print(f"{len(records)} gender clips ({female.sum()} female), {len(questions)} phrasings, "
          f"{len(GRID_HZ)} F0 points: {len(records) * len(questions) * (len(GRID_HZ) + 1)} forward rows")
    print("| set | form | phrasing | acc at own F0 % | switch F0, median (10–90%) | switches outside 130–160 Hz |")
    print("|---|---|---|---:|---:|---:|")
    by_voice, medians, all_switch = collections.defaultdict(list), {}, []
    for name, form, text in questions:
        own = gaps(slm, records, text, None, ids, args.batch_size)
        curves = np.stack([gaps(slm, records, text, np.full(len(records), np.log2(hz / 150)), ids, args.batch_size)
                           for hz in GRID_HZ], axis=1)  # (clips, grid)
        switch = switch_points(curves)
        all_switch.append(switch)
        hits = (own > 0) == female
        balanced = 50 * (hits[female].mean() + hits[~female].mean())
        lo, mid, hi = np.percentile(switch, [10, 50, 90])
        outside = np.mean((switch < 130) | (switch > 160))
        print(f"| {name} | {form} | {text} | {balanced:.1f} | {mid:.0f} ({lo:.0f}–{hi:.0f}) | {100 * outside:.0f}% |")
        medians[f"{name}: {text}"] = np.median(curves, axis=0)
        for m, right in zip(manifests, hits, strict=True):
            by_voice[m["voice"]].append(right)
    switch = np.concatenate(all_switch)
    print(f"\nall pairs: switch F0 median {np.median(switch):.0f} Hz, outside 130–160 Hz "
          f"{100 * np.mean((switch < 130) | (switch > 160)):.0f}%; by voice (acc at own F0): " +
          ", ".join(f"{v} {100 * np.mean(h):.0f}%" for v, h in sorted(by_voice.items())))
    male_near = (~female) & (own_f0 > 110)
    print(f"male clips above 110 Hz: {male_near.sum()} (own F0 {np.round(np.sort(own_f0[male_near])).tolist()})")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 5))
        for label, curve in medians.items():
            ax.plot(GRID_HZ, curve, marker=".", label=label[:60])
        ax.axhline(0, color="k", lw=0.8)
        ax.axvspan(130, 160, color="0.9")
        ax.set(xscale="log", xlabel="F0 feature (Hz), other features the clip's own",
               ylabel="median log-odds female − male", title=f"{args.model.name}: gender switch along F0")
        ax.legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
