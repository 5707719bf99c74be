"""Session 32: the lines of rules 19-20 (s30/decision.md), read from this session's check outputs; exit 0 when met.
  candidate.py seed ARM                 each seed alone: own >= 95 and probe >= 90 (mean of gender / pitch / rate)
  candidate.py soup RULE SOUP SEED...   the soup every dev line (own, probe, requests >= 0.6 against the same
                                        transcript, 300 questions mean >= 0 and lower end >= -3, agreement >= 95)
                                        and every seed its per-seed lines
  candidate.py guards RULE REPORT.md    recorded speech: >= 130/135 where the F0 rule is right, English >= 88.9
"""
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s22"))
from table import dev_checks  # noqa: E402

HERE = Path(__file__).resolve().parent


def seed_lines(arm: str) -> dict[str, tuple[float, float]]:
    c = dev_checks(HERE, arm)
    return {f"{arm} own": (sum(c["own"]) / 3, 95.0), f"{arm} probe": (sum(c["probe"]) / 3, 90.0)}


def soup_lines(soup: str, seeds: list[str]) -> dict[str, tuple[float, float]]:
    c = dev_checks(HERE, soup)
    b = c["bootstrap"]
    checks = {f"{soup} own": (sum(c["own"]) / 3, 95.0), f"{soup} probe": (sum(c["probe"]) / 3, 90.0),
              "requests (same transcript)": (c["requests"][1], 0.6), "speech - cascade": (b["mean_difference"], 0.0),
              "lower end": (b["low"], -3.0), "agreement": (c["agreement"], 95.0)}
    for seed in seeds:
        checks.update(seed_lines(seed))
    return checks


def guard_lines(report: str) -> dict[str, tuple[float, float]]:
    text = Path(report).read_text()
    english = float(re.search(r"\| English only \| ([\d.]+)", text).group(1))
    right = int(re.search(r"\| clips where the F0 rule is right \| [\d.]+ \((\d+)/135\)", text).group(1))
    return {"English": (english, 88.9), "F0-rule-right of 135": (right, 130)}


def main() -> None:
    kind, *args = sys.argv[1:]
    if kind == "seed":
        label, checks = "rule 19-20", seed_lines(args[0])
    elif kind == "soup":
        label, checks = f"rule {args[0]}", soup_lines(args[1], args[2:])
    else:
        label, checks = f"rule {args[0]} guards", guard_lines(args[1])
    print(f"{label}: " + ", ".join(f"{k} {v:.3g} (>= {floor})" for k, (v, floor) in checks.items()))
    sys.exit(0 if all(v >= floor for v, floor in checks.values()) else 1)


if __name__ == "__main__":
    main()
