"""Session 23: one line per arm of its dev checks (s22/table.py's, and accent on the 210 dev clips) beside the default
(hacc85-s7, session 22).
  table.py > results/robust-hearing/s23/table.md"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "s22"))
from table import dev_checks, row_cells  # noqa: E402


def accent(path: Path) -> str:
    m = re.search(r"^accent: n (\d+) .*?balanced ([\d.]+)  answers (.*?)  e\.g\.", path.read_text(), re.M) \
        if path.exists() else None
    return f"{m.group(2)} ({m.group(3)})" if m else "–"


def main() -> None:
    arms = [("s22", "hacc85-s7")] + [("s23", p.name.removeprefix("hc-").removesuffix("-probe.txt"))
                                     for p in sorted((ROOT / "s23").glob("hc-*-probe.txt"))]
    print("| arm | accent, 210 dev clips, balanced (answers) | own phrasings g / p / r (mean) | probe phrasings (mean) "
          "| requests ROUGE-L vs text / same transcript | 300 questions: speech − cascade (95% CI) | agreement |")
    print("|---|---|---|---|---|---|---|")
    for session, arm in arms:
        cells = [accent(ROOT / "s23" / f"accent-{arm}.txt"), *row_cells(dev_checks(ROOT / session, arm))]
        print(f"| {arm} | {' | '.join(cells)} |")

if __name__ == "__main__":
    main()
