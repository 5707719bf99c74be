"""Session 29: does the teacher-forced KL (fidelity.py) rank the models as the greedy requests' ROUGE-L does, and does
it separate two models with less noise? Reads runs/s29/fidelity.jsonl and each model's requests jsonl (the 53 dev
requests, ROUGE-L of its answer as heard against the cascade's), writes a table, the rank correlations and paired
comparisons (bootstrap over requests, 95%), and a scatter plot.
  fidelity_table.py   -> results/robust-hearing/s29/fidelity.md, fidelity.png
"""
import json
import re
from pathlib import Path

import matplotlib
from scipy.stats import spearmanr

from textpro.eval.diagnostics import bootstrap_interval, rouge_l

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OUT = Path("results/robust-hearing/s29")
lines = {r["name"]: r for r in map(json.loads, open("runs/s29/fidelity.jsonl"))}
POSITION_ARMS = {"s25/pos-s7", "s25/posend-s7", "s25/posuser-s7"}  # session 25's adapter at the placeholder rows only


def per_request_rouge(name: str) -> list[float] | None:
    """Its answers' ROUGE-L, from whichever session's request_diag.py --jsonl kept them (None: none kept)."""
    arm = name.split("/")[1]
    found = sorted(Path("runs").glob(f"s*/requests-{arm}.jsonl"))
    return [rouge_l(r["heard"], r["cascade"]) for r in map(json.loads, open(found[-1]))] if found else None


def reported_rouge(name: str) -> float:
    """The mean its session reported (request_diag.py's line "heard  vs text / vs same transcript")."""
    session, arm = name.split("/")
    text = (Path("results/robust-hearing") / session / f"requests-{arm}.txt").read_text()
    return float(re.search(r"^  heard +[\d.]+ / ([\d.]+)", text, re.M).group(1))


def paired(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Mean of b − a and its 95% bootstrap interval over items (2,000 resamples)."""
    d = [y - x for x, y in zip(a, b, strict=True)]
    return (sum(d) / len(d), *bootstrap_interval(d, resamples=2000))


rouge = {name: per_request_rouge(name) for name in lines}
mean = {name: reported_rouge(name) for name in lines}
out = ["# Teacher-forced fidelity against the greedy requests' ROUGE-L (53 dev_unseen requests)", "",
       "`python results/robust-hearing/s29/fidelity.py` (KL per answer token of the text LLM on the transcript against "
       "the SLM as heard, the cascade's answer forced through both) and `s29/fidelity_table.py`.", "",
       "| model | ROUGE-L vs the same transcript | KL (nats / token) | argmax agreement % "
       "| first flip (median token) |",
       "|---|---:|---:|---:|---:|"]
for name, r in sorted(lines.items(), key=lambda kv: kv[1]["kl"]):
    out.append(f"| {name} | {mean[name]:.3f} | {r['kl']:.4f} | {100 * r['agree']:.1f} | {r['first_flip_median']} |")
out.append("")
for label, names in (("all models", list(lines)), ("without session 25's position arms",
                                                   [n for n in lines if n not in POSITION_ARMS])):
    rho_kl = spearmanr([lines[n]["kl"] for n in names], [mean[n] for n in names]).statistic
    rho_agree = spearmanr([lines[n]["agree"] for n in names], [mean[n] for n in names]).statistic
    out.append(f"- {label} (n {len(names)}): Spearman ρ(KL, ROUGE-L) = {rho_kl:.2f}; "
               f"ρ(argmax agreement, ROUGE-L) = {rho_agree:.2f}")
out += ["", "Paired, over the 53 requests (mean of the second − the first, 95% bootstrap interval); "
        "|mean| / half-width says how far outside the noise each instrument puts the difference:", "",
        "| first → second | ROUGE-L | (ratio) | KL | (ratio) |", "|---|---|---:|---|---:|"]
PAIRS = [("s26/soup65x4", "s28/soup65x4r"), ("s26/soup65x4", "s28/soup65x8"), ("s26/soup65", "s26/soup65b"),
         ("s24/ctl65-s7", "s26/soup65"), ("s22/hacc85-s7", "s26/soup65x4"), ("s21/bk-s7", "s26/soup65x4"),
         ("s24/ctl65-s7", "s29/T2-s7"), ("s26/ctl65-s8", "s29/T2-s8"), ("s26/soup65", "s29/soupT2")]
for a, b in PAIRS:
    if a not in lines or b not in lines or rouge[a] is None or rouge[b] is None:
        continue
    cells = []
    for values in (rouge, {n: r["per_request_kl"] for n, r in lines.items()}):
        m, lo, hi = paired(values[a], values[b])
        cells += [f"{m:+.4f} ({lo:+.4f} … {hi:+.4f})", f"{abs(m) / ((hi - lo) / 2):.2f}"]
    out.append(f"| {a} → {b} | " + " | ".join(cells) + " |")
(OUT / "fidelity.md").write_text("\n".join(out) + "\n")
print("\n".join(out))

fig, ax = plt.subplots(figsize=(6, 4.5))
for name, r in lines.items():
    if name in POSITION_ARMS:
        continue
    new = name.startswith("s29/")
    ax.scatter(r["kl"], mean[name], color="tab:red" if new else ("tab:blue" if "soup" in name else "tab:gray"))
    ax.annotate(name.split("/")[1], (r["kl"], mean[name]), fontsize=7, xytext=(3, 2), textcoords="offset points")
ax.set_xlabel("teacher-forced KL(text LLM ‖ SLM), nats per answer token")
ax.set_ylabel("greedy ROUGE-L vs the same transcript")
ax.set_title("53 dev_unseen requests: soups blue, single runs grey, session 29 red", fontsize=9)
fig.tight_layout()
fig.savefig(OUT / "fidelity.png", dpi=120)
