"""Session 28: the 53 dev_unseen requests' ROUGE-L against the text LLM's answer to the same transcript, by the number
of seeds of the default's step (35% content rows, 100 steps from bk-s7) averaged, sessions 24-28; read from the
requests-*.txt reports of `s15/request_diag.py`.
  python results/robust-hearing/s28/soups.py  -> results/robust-hearing/s28/soups.png
"""
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# arm -> (session, seeds averaged, seeds)
ARMS = {"ctl65-s7": ("s24", 1, "7"), "ctl65-s8": ("s26", 1, "8"), "soup65": ("s26", 2, "7+8"),
        "soup65b": ("s26", 2, "9+10"), "soup65c": ("s28", 2, "11+12"), "soup65x4": ("s26", 4, "7–10"),
        "soup65x4r": ("s28", 4, "11–14"), "soup65x6": ("s28", 6, "7–12"), "soup65x8": ("s28", 8, "7–14")}


def same_transcript(session: str, arm: str) -> float | None:
    path = ROOT / session / f"requests-{arm}.txt"
    m = re.search(r"^  heard +[\d.]+ / ([\d.]+)", path.read_text(), re.M) if path.exists() else None
    return float(m.group(1)) if m else None


def main() -> None:
    fig, ax = plt.subplots(figsize=(6, 3.8))
    found = {}
    for arm, (session, n, seeds) in ARMS.items():
        value = same_transcript(session, arm)
        if value is None:
            continue
        found[arm] = value
        ax.scatter(n, value, color="C0" if session != "s28" else "C3")
        ax.annotate(f"{seeds}", (n, value), textcoords="offset points", xytext=(6, -3), fontsize=8)
    ax.axhline(same_transcript("s22", "hacc85-s7"), color="grey", ls="--", lw=1, label="hacc85-s7 (default before)")
    ax.axhline(0.6, color="k", ls=":", lw=1, label="the issue's line (on test_unseen)")
    ax.set_xticks([1, 2, 4, 6, 8])
    ax.set_xlabel("seeds averaged (labels: which seeds; red: trained in session 28)")
    ax.set_ylabel("ROUGE-L vs the same transcript")
    ax.set_title("dev_unseen, 53 open requests: the default's step, seeds averaged", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(Path(__file__).parent / "soups.png", dpi=120)
    print(found)


if __name__ == "__main__":
    main()
