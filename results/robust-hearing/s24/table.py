"""Session 24: one line per arm of its dev checks (s22/table.py's; the requests' length ratio beside their ROUGE-L)
beside the default (hacc85-s7, session 22); the arms of the sessions named (default s24).
  table.py [SESSION...] > results/robust-hearing/s24/table.md   (session 25: table.py s25 > s25/table.md)"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "s22"))
from table import dev_checks, row_cells  # noqa: E402


def length_ratio(path: Path) -> str:
    m = re.search(r"^  heard +[\d.]+ / [\d.]+ +([\d.]+)", path.read_text(), re.M) if path.exists() else None
    return m.group(1) if m else "–"


def main() -> None:
    arms = [("s22", "hacc85-s7")] + [(s, p.name.removeprefix("hc-").removesuffix("-probe.txt"))
                                     for s in sys.argv[1:] or ["s24"]
                                     for p in sorted((ROOT / s).glob("hc-*-probe.txt"))]
    print("| arm | own phrasings g / p / r (mean) | probe phrasings (mean) "
          "| requests ROUGE-L vs text / same transcript | requests length ratio "
          "| 300 questions: speech − cascade (95% CI) | agreement |")
    print("|---|---|---|---|---|---|---|")
    for session, arm in arms:
        own, probe, requests, *content = row_cells(dev_checks(ROOT / session, arm))
        ratio = length_ratio(ROOT / session / f"requests-{arm}.txt")
        print(f"| {arm} | {own} | {probe} | {requests} | {ratio} | {' | '.join(content)} |")


if __name__ == "__main__":
    main()
