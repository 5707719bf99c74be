"""Session 27: the figure of sessions 26-27's model soups on dev_unseen, read from session 26's table (s26/table.md,
s24/table.md for ctl65-s7): ROUGE-L of the 53 open requests against the text LLM's answer to the same transcript and
the held-out-phrasing hearing mean, by the number of seeds (of the default's step with 35% content rows) averaged.
  python results/robust-hearing/s27/soups.py  -> results/robust-hearing/s27/soups.png
"""
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).parent
ARMS = {"ctl65-s7": 1, "ctl65-s8": 1, "soup65": 2, "soup65b": 2, "soup65x4": 4}


def rows() -> dict[str, tuple[float, float]]:
    """arm -> (requests ROUGE-L vs the same transcript, held-out hearing mean), from the sessions' table.md files."""
    found = {}
    for table in (HERE.parent / "s24" / "table.md", HERE.parent / "s26" / "table.md"):
        for line in table.read_text().splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) > 3 and (cells[0] in ARMS or cells[0] == "hacc85-s7"):
                probe = float(re.search(r"\(([\d.]+)\)", cells[2]).group(1))
                found[cells[0]] = (float(cells[3].split("/")[1]), probe)
    return found


def main() -> None:
    data = rows()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    panels = ((axes[0], 0, "requests ROUGE-L vs the same transcript"), (axes[1], 1, "held-out hearing mean %"))
    for ax, k, what in panels:
        for arm, n in ARMS.items():
            ax.scatter(n, data[arm][k], color="C0" if n == 1 else "C1")
            ax.annotate(arm, (n, data[arm][k]), textcoords="offset points", xytext=(6, -3), fontsize=8)
        ax.axhline(data["hacc85-s7"][k], color="grey", ls="--", lw=1, label="hacc85-s7 (default before)")
        ax.set_xticks([1, 2, 4])
        ax.set_xlabel("seeds averaged (35% content rows, 100 steps from bk-s7)")
        ax.set_title(what, fontsize=10)
        ax.set_xlim(0.5, 5.2)
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle("dev_unseen: 53 open requests, 360 clips with held-out phrasings", fontsize=10)
    fig.tight_layout()
    fig.savefig(HERE / "soups.png", dpi=120)
    print({arm: data[arm] for arm in data})


if __name__ == "__main__":
    main()
