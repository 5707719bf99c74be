"""Session 22: one line per arm of its dev checks (360-clip dev_unseen hearing, own and probe phrasings; 53 requests;
the 300-question dev_unseen), beside session 21's models.   table.py > results/robust-hearing/s22/table.md"""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARMS = [("s21", "bk-s7"), ("s21", "hacc-s7"), ("s21", "hacc-s8"), ("s21", "hmix-s7")] + [
    ("s22", p.name.removeprefix("hc-").removesuffix("-probe.txt"))
    for p in sorted((ROOT / "s22").glob("hc-*-probe.txt"))]


def hearing(path: Path) -> list[float] | None:
    if not path.exists():
        return None
    found = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(gender|pitch|rate):.*?balanced ([\d.]+)",
                                                                path.read_text(), re.M)}
    return [found[t] for t in ("gender", "pitch", "rate")] if len(found) == 3 else None


def cell(values: list[float] | None) -> str:
    return " / ".join(f"{v:.1f}" for v in values) + f" ({sum(values) / 3:.1f})" if values else "–"


print("| arm | own phrasings g / p / r (mean) | probe phrasings (mean) | requests ROUGE-L vs text / same transcript |"
      " 300 questions: speech − cascade (95% CI) | agreement |")
print("|---|---|---|---|---|---|")
for session, arm in ARMS:
    d = ROOT / session
    own = hearing(d / f"hc-{arm}.txt") or hearing(next(ROOT.glob(f"s2*/hc-{arm}.txt"), Path("-")))  # bk-s7: s20
    probe = hearing(d / f"hc-{arm}-probe.txt") or hearing(next(ROOT.glob(f"s2*/hc-{arm}-probe.txt"), Path("-")))
    req = d / f"requests-{arm}.txt"
    heard = next((line.split() for line in req.read_text().splitlines() if line.split()[:1] == ["heard"]), None) \
        if req.exists() else None
    res = d / f"{arm}-dev_unseen-bigsem" / "results.json"
    if not res.exists():  # bk-s7: the shipped run is session 18's
        res = ROOT / "s18" / f"{arm}-dev_unseen-bigsem" / "results.json"
    content = "–", "–"
    if res.exists():
        r = json.loads(res.read_text())
        b = r["bootstrap"]
        content = (f"{b['mean_difference']:+.1f} ({b['low']:+.1f} … {b['high']:+.1f})",
                   f"{r['average']['agreement']:.1f}")
    print(f"| {arm} | {cell(own)} | {cell(probe)} | {heard[1] + ' / ' + heard[3] if heard else '–'} | "
          f"{content[0]} | {content[1]} |")
