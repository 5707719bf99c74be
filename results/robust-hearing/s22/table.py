"""Session 22: one line per arm of its dev checks (360-clip dev_unseen hearing, own and probe phrasings; 53 requests;
the 300-question dev_unseen), beside session 21's models. `dev_checks` is also what record.sh's guards read.
  table.py > results/robust-hearing/s22/table.md"""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = ("gender", "pitch", "rate")


def hearing(path: Path) -> list[float] | None:
    """Balanced gender / pitch / rate of a hearing_check.py summary, None where it is missing."""
    if not path.exists():
        return None
    found = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(gender|pitch|rate):.*?balanced ([\d.]+)",
                                                                path.read_text(), re.M)}
    return [found[t] for t in TASKS] if len(found) == 3 else None


def dev_checks(d: Path, arm: str) -> dict:
    """An arm's dev numbers from its session's results dir `d`; what is missing there is looked up where an earlier
    session measured it (bk-s7: hearing in s20, the 300 questions in s18, the shipped run) and is None if absent."""
    root = d.parent
    own = hearing(d / f"hc-{arm}.txt") or hearing(next(root.glob(f"s2*/hc-{arm}.txt"), Path("-")))
    probe = hearing(d / f"hc-{arm}-probe.txt") or hearing(next(root.glob(f"s2*/hc-{arm}-probe.txt"), Path("-")))
    req = d / f"requests-{arm}.txt"
    heard = next((line.split() for line in req.read_text().splitlines() if line.split()[:1] == ["heard"]), None) \
        if req.exists() else None
    res = next((p for p in (d / f"{arm}-dev_unseen-bigsem/results.json",
                            root / f"s18/{arm}-dev_unseen-bigsem/results.json") if p.exists()), None)
    r = json.loads(res.read_text()) if res else None
    return {"own": own, "probe": probe,
            "requests": (float(heard[1]), float(heard[3])) if heard else None,  # ROUGE-L vs text / same transcript
            "bootstrap": r["bootstrap"] if r else None, "agreement": r["average"]["agreement"] if r else None}


def cell(values: list[float] | None) -> str:
    return " / ".join(f"{v:.1f}" for v in values) + f" ({sum(values) / 3:.1f})" if values else "–"


def row_cells(c: dict) -> list[str]:
    """dev_checks' numbers as table cells: own, probe, requests, speech − cascade (95% CI), agreement."""
    b = c["bootstrap"]
    content = f"{b['mean_difference']:+.1f} ({b['low']:+.1f} … {b['high']:+.1f})" if b else "–"
    requests = "{:.3f} / {:.3f}".format(*c["requests"]) if c["requests"] else "–"
    agreement = f"{c['agreement']:.1f}" if c["agreement"] is not None else "–"
    return [cell(c["own"]), cell(c["probe"]), requests, content, agreement]


def main() -> None:
    arms = [("s21", "bk-s7"), ("s21", "hacc-s7"), ("s21", "hacc-s8"), ("s21", "hmix-s7")] + [
        ("s22", p.name.removeprefix("hc-").removesuffix("-probe.txt"))
        for p in sorted((ROOT / "s22").glob("hc-*-probe.txt"))]
    print("| arm | own phrasings g / p / r (mean) | probe phrasings (mean) | requests ROUGE-L vs text / same "
          "transcript | 300 questions: speech − cascade (95% CI) | agreement |")
    print("|---|---|---|---|---|---|")
    for session, arm in arms:
        print(f"| {arm} | {' | '.join(row_cells(dev_checks(ROOT / session, arm)))} |")


if __name__ == "__main__":
    main()
