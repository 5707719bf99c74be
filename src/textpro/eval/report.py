"""Reports of an evaluation: results.json (everything), results.md (tables), results.png (bar chart)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from textpro.eval.harness import EvalResult


def _pct(value: float | None) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def _gap(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f}"


def markdown_table(result: EvalResult) -> str:
    """Semantic table (text acc, speech acc, gap, failure %) and paralinguistic table, with averages."""
    lines = [f"Benchmark `{result.bench}`, split `{result.split}`. Text side: `{result.text_system or '–'}`; "
             f"speech side: `{result.speech_system or '–'}`.", ""]
    if result.semantic:
        lines += [
            "| Task | n | Text acc % | Speech acc % | Gap (pts) | Text fail % | Speech fail % | "
            "Gap, random fallback |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for t in result.semantic:
            lines.append(
                f"| {t.task} | {t.n} | {_pct(t.text.accuracy if t.text else None)} | "
                f"{_pct(t.speech.accuracy if t.speech else None)} | {_gap(t.gap)} | "
                f"{_pct(t.text.failure_pct if t.text else None)} | "
                f"{_pct(t.speech.failure_pct if t.speech else None)} | {_gap(t.gap_fallback)} |")
        avg = result.averages()
        lines.append(f"| **average** | {sum(t.n for t in result.semantic)} | {_pct(avg['text_accuracy'])} | "
                     f"{_pct(avg['speech_accuracy'])} | **{_gap(avg['gap'])}** | {_pct(avg['text_failure_pct'])} | "
                     f"{_pct(avg['speech_failure_pct'])} | {_gap(avg['gap_fallback'])} |")
        lines += ["", "Accuracy counts an answer that no extraction rule recognises as wrong; the last column "
                  "replaces such answers by a seeded random letter, as VoiceBench does.", ""]
    if result.paralinguistic:
        lines += ["| Paralinguistic task | n | Labels | Chance % | Accuracy % | Fail % |",
                  "|---|---:|---|---:|---:|---:|"]
        for t in result.paralinguistic:
            lines.append(f"| {t.task} | {t.n} | {', '.join(t.labels)} | {_pct(t.chance)} | "
                         f"{_pct(t.speech.accuracy)} | {_pct(t.speech.failure_pct)} |")
        lines.append(f"| **average** | {sum(t.n for t in result.paralinguistic)} | | "
                     f"{_pct(sum(t.chance for t in result.paralinguistic) / len(result.paralinguistic))} | "
                     f"**{_pct(result.averages()['paralinguistic_accuracy'])}** | |")
        lines.append("")
    return "\n".join(lines)


def bar_chart(result: EvalResult, path: str | Path) -> Path:
    """Text vs speech accuracy per semantic task (gap written above each pair), then paralinguistic accuracy
    against chance."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never a window
    import matplotlib.pyplot as plt

    semantic, para = result.semantic, result.paralinguistic
    panels = [p for p in (semantic, para) if p]
    fig, axes = plt.subplots(1, max(1, len(panels)), figsize=(max(6, 1.3 * (len(semantic) + len(para)) + 3), 4.6),
                             squeeze=False, width_ratios=[max(1, len(p)) for p in panels] or [1])
    axes = axes[0]
    width = 0.38
    if semantic:
        ax = axes[0]
        xs = range(len(semantic))
        text = [t.text.accuracy if t.text else 0 for t in semantic]
        speech = [t.speech.accuracy if t.speech else 0 for t in semantic]
        ax.bar([x - width / 2 for x in xs], text, width, label=f"text: {result.text_system or '–'}", color="#4C72B0")
        ax.bar([x + width / 2 for x in xs], speech, width, label=f"speech: {result.speech_system or '–'}",
               color="#DD8452")
        for x, t in zip(xs, semantic, strict=True):
            if t.gap is not None:
                top = max(text[x], speech[x])
                ax.annotate(f"gap {t.gap:+.1f}", (x, min(top + 2, 103)), ha="center", fontsize=8)
        ax.set_xticks(list(xs), [t.task for t in semantic], rotation=20, ha="right")
        ax.set_ylim(0, 110)
        ax.set_ylabel("accuracy %")
        ax.set_title("semantic (multiple choice)")
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    if para:
        ax = axes[-1]
        xs = range(len(para))
        ax.bar(list(xs), [t.speech.accuracy for t in para], 0.6, color="#55A868", label="speech")
        ax.scatter(list(xs), [t.chance for t in para], marker="_", s=400, color="black", label="chance", zorder=3)
        ax.set_xticks(list(xs), [t.task for t in para], rotation=20, ha="right")
        ax.set_ylim(0, 110)
        ax.set_title("paralinguistic")
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_reports(result: EvalResult, out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "markdown": out / "results.md", "png": out / "results.png"}
    paths["json"].write_text(json.dumps(_without_nan(result.to_dict()), indent=2) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown_table(result), encoding="utf-8")
    bar_chart(result, paths["png"])
    return paths


def _without_nan(value):
    """NaN is not JSON; an undefined number is written as null."""
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nan(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value
