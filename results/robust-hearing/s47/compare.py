"""Session 47, rule 50 (s30/decision.md): the embedded default at each prosody gain against g = 1.0 on the dev lines —
agreement and speech − cascade on the 300 dev_unseen questions (with the text LLM's reference and the paired
intervals `textpro eval` prints), own and probe hearing (balanced, 360 dev_unseen clips), accent / style on the mini
world's dev split, the 53 dev_unseen requests (ROUGE-L as heard, against the text LLM on the same transcript).

    .venv/bin/python results/robust-hearing/s47/compare.py 1.0 0.75 0.5 > results/robust-hearing/s47/compare.txt
"""
import json
import re
import sys
from pathlib import Path

S = Path(__file__).resolve().parent


def balanced(path: Path) -> dict[str, float]:
    """task -> balanced accuracy, from a hearing_check.py output."""
    text = path.read_text() if path.exists() else ""
    return {m[1]: float(m[2]) for m in re.finditer(r"^(\w+): n \d+\s+accuracy [\d.]+\s+balanced ([\d.]+)", text, re.M)}


def lines(gain: str) -> dict:
    name = f"g{gain}"
    row = {"gain": float(gain)}
    results = S / f"{name}-dev_unseen-bigsem" / "results.json"
    if results.exists():
        r = json.loads(results.read_text())
        semantic = r["semantic"][0]
        ab = r["agreement_bootstrap"]
        row.update(speech=semantic["speech"]["accuracy"], cascade=semantic["cascade"]["accuracy"],
                   neutral=semantic["neutral"]["accuracy"], text=semantic["text"]["accuracy"],
                   speech_cascade=r["bootstrap"]["mean_difference"], sc_low=r["bootstrap"]["low"],
                   agreement=ab["agreement"], reference=ab["text_self_agreement"],
                   agreement_minus_reference=ab["mean_difference"], amr_low=ab["low"], amr_high=ab["high"])
    row["own"] = balanced(S / f"hc-{name}.txt")
    row["probe"] = balanced(S / f"hc-{name}-probe.txt")
    row["dev"] = balanced(S / f"hc-accent-style-{name}.txt")
    requests = S / f"requests-{name}.txt"
    if requests.exists():
        heard = re.search(r"^\s+heard\s+[\d.]+ / ([\d.]+)\s+([\d.]+)", requests.read_text(), re.M)
        row["requests"], row["length_ratio"] = float(heard[1]), float(heard[2])
    return row


def verdict(row: dict, control: dict) -> list[str]:
    """Rule 50's lines (a)-(e); a missing measurement fails its line."""
    def at(d, k):
        return d.get(k, float("nan"))
    checks = [
        ("(a) agreement >= g1 + 1.0", at(row, "agreement") >= at(control, "agreement") + 1.0),
        ("(b) speech - cascade >= 0 and >= g1 - 1.0",
         at(row, "speech_cascade") >= 0 and at(row, "speech_cascade") >= at(control, "speech_cascade") - 1.0),
    ]
    for task, line in (("gender", 95), ("pitch", 85), ("rate", 85)):
        checks.append((f"(c) own {task} >= {line} and >= g1 - 3",
                       at(row["own"], task) >= line and at(row["own"], task) >= at(control["own"], task) - 3))
        checks.append((f"(c) probe {task} >= g1 - 5", at(row["probe"], task) >= at(control["probe"], task) - 5))
    checks.append(("(d) requests >= 0.60 and >= g1 - 0.010",
                   at(row, "requests") >= 0.60 and at(row, "requests") >= at(control, "requests") - 0.010))
    for task in ("accent", "style"):
        checks.append((f"(e) dev {task} >= g1 - 3", at(row["dev"], task) >= at(control["dev"], task) - 3))
    return [f"  {'✓' if ok else '✗'} {what}" for what, ok in checks]


def main() -> None:
    gains = sys.argv[1:] or ["1.0", "0.75", "0.5"]
    rows = [lines(g) for g in gains]
    print("| gain | text | speech | cascade | neutral | speech − cascade (low) | agreement | reference | agreement − "
          "reference (95%) | own g / p / r | probe g / p / r | dev accent / style | requests (length) |")
    print("|" + "---|" * 13)
    f = "{:.1f}".format
    for r in rows:
        hearing = {k: " / ".join(f(r[k].get(t, float("nan"))) for t in ("gender", "pitch", "rate"))
                   for k in ("own", "probe")}
        print(f"| {r['gain']} | {f(r.get('text', float('nan')))} | {f(r.get('speech', float('nan')))} | "
              f"{f(r.get('cascade', float('nan')))} | {f(r.get('neutral', float('nan')))} | "
              f"{r.get('speech_cascade', float('nan')):+.1f} ({r.get('sc_low', float('nan')):+.1f}) | "
              f"{f(r.get('agreement', float('nan')))} | {f(r.get('reference', float('nan')))} | "
              f"{r.get('agreement_minus_reference', float('nan')):+.1f} ({r.get('amr_low', float('nan')):+.1f} … "
              f"{r.get('amr_high', float('nan')):+.1f}) | {hearing['own']} | {hearing['probe']} | "
              f"{f(r['dev'].get('accent', float('nan')))} / {f(r['dev'].get('style', float('nan')))} | "
              f"{r.get('requests', float('nan')):.3f} ({r.get('length_ratio', float('nan')):.2f}) |")
    control = rows[0]
    for r in rows[1:]:
        marks = verdict(r, control)
        print(f"\ngain {r['gain']}: {'CANDIDATE' if all('✓' in m for m in marks) else 'not a candidate'}")
        print("\n".join(marks))


if __name__ == "__main__":
    main()
