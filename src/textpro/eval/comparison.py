"""Reports that compare systems: the reproduction's tables (`textpro recipe reproduce`), as Markdown, a PNG chart and
the section of BENCHMARKS.md that `textpro recipe report --update-benchmarks` replaces. The input is the dict of
`textpro.recipe.report.collect_results` (OUT/results.json); one system's evaluation report is report.py.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path


def semantic_by_kind(bench: Path, split: str, eval_dir: Path) -> dict:
    """{kind: {"n", "text", "speech", "gap"}} for the multiple-choice items of one eval directory, per question
    kind (arithmetic, fact, …: the mini world's counterpart of the paper's six benchmarks), from its cached
    responses and the harness's own scoring. Items without both answers (a --limit run) are left out."""
    from textpro.data.mini import read_split
    from textpro.eval.bench import MCQ, load_bench
    from textpro.eval.harness import SPEECH, TEXT, ResponseCache, score_mcq

    summary = json.loads((eval_dir / "results.json").read_text())
    cache = ResponseCache(eval_dir / "responses.jsonl")
    kinds = {str(r["id"]): r.get("kind") or r.get("task") for r in read_split(bench, split)}
    groups: dict[str, list] = {}
    for item in load_bench(bench, split):
        if item.kind == MCQ:
            groups.setdefault(kinds.get(item.id, item.task), []).append(item)
    table = {}
    for kind, items in sorted(groups.items()):
        answered = [(i, cache.get(TEXT, summary["text_system"], i), cache.get(SPEECH, summary["speech_system"], i))
                    for i in items]
        answered = [(i, t, s) for i, t, s in answered if t is not None and s is not None]
        if not answered:
            continue
        chosen = [i for i, _, _ in answered]
        text = score_mcq(chosen, {i.id: t for i, t, _ in answered}, seed=summary.get("seed", 0)).accuracy
        speech = score_mcq(chosen, {i.id: s for i, _, s in answered}, seed=summary.get("seed", 0)).accuracy
        table[kind] = {"n": len(chosen), "text": text, "speech": speech, "gap": text - speech}
    return table


def _num(value, digits: int = 1) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def results_markdown(results: dict) -> str:
    """Table-3-like (speech accuracy (gap) per question kind, average gap), Table-5-like (paralinguistic accuracy),
    Table-2-like (probes) and efficiency (ratios to the adapter), from `collect_results`."""
    systems, splits = results["systems"], results["splits"]
    main = splits[0]
    lines = [f"# Reproduction on the mini world ({results['mini_dir']})", ""]

    kinds = sorted({k for e in systems.values() for k in e.get(main, {}).get("semantic_by_kind", {})})
    lines += [f"## Modality gap (Table 3-like), split `{main}`: speech accuracy % (gap, points)", "",
              "| System | " + " | ".join(kinds) + " | Avg gap | " + " | ".join(f"gap `{s}`" for s in splits) + " |",
              "|---|" + "---:|" * (len(kinds) + 1 + len(splits))]
    text_row = None
    for entry in systems.values():
        by_kind = entry.get(main, {}).get("semantic_by_kind", {})
        if text_row is None and by_kind:
            text_row = "| Text LLM, text input | " + " | ".join(_num(by_kind.get(k, {}).get("text")) for k in kinds)
        cells = [f"{_num(by_kind[k]['speech'])} ({_num(by_kind[k]['gap'])})" if k in by_kind else "–" for k in kinds]
        gaps = [by_kind[k]["gap"] for k in kinds if k in by_kind]
        per_split = [_num(entry.get(s, {}).get("average", {}).get("gap")) for s in splits]
        average = sum(gaps) / len(gaps) if gaps else None
        lines.append(f"| {entry['label']} | " + " | ".join(cells) + f" | **{_num(average)}** | "
                     + " | ".join(per_split) + " |")
    if text_row:
        lines.append(text_row + " | | " + " | ".join("" for _ in splits) + " |")
    lines += ["", "Avg gap: the mean over question kinds (as the paper averages over benchmarks); `gap <split>`: the "
              "harness's gap over all questions of that split.", ""]

    tasks = sorted({t for e in systems.values() for t in e.get(main, {}).get("paralinguistic", {})})
    lines += [f"## Paralinguistic accuracy % (Table 5-like), split `{main}`", "",
              "| System | " + " | ".join(tasks) + " | Avg |", "|---|" + "---:|" * (len(tasks) + 1)]
    for entry in systems.values():
        para = entry.get(main, {}).get("paralinguistic", {})
        avg = entry.get(main, {}).get("average", {}).get("paralinguistic_accuracy")
        lines.append(f"| {entry['label']} | " + " | ".join(_num(para.get(t)) for t in tasks) + f" | **{_num(avg)}** |")
    lines.append("")

    if results.get("probe"):
        from textpro.eval.probe import markdown_table

        lines += ["## Probes on utterance vectors (Table 2-like)", "",
                  markdown_table(results["probe"], results.get("probe_names"))]

    efficiency = results.get("efficiency") or {}
    if efficiency:
        adapter = efficiency.get("adapter")
        lines += ["## Efficiency", "", "| System | LLM input positions / s of audio | × fewer than adapter | "
                  "Latency / query (s) | × adapter's latency | Training audio (h) |", "|---|---:|---:|---:|---:|---:|"]
        for system, measured in efficiency.items():
            fewer = adapter["positions_per_second"] / measured["positions_per_second"] if adapter else None
            relative = measured["latency_seconds"] / adapter["latency_seconds"] if adapter else None
            hours = systems.get(system, {}).get("training_audio_hours")
            lines.append(f"| {systems.get(system, {}).get('label', system)} | {_num(measured['positions_per_second'])}"
                         f" | {_num(fewer)} | {_num(measured['latency_seconds'], 2)} | {_num(relative, 2)} | "
                         f"{_num(hours, 2)} |")
        lines.append("")
    return "\n".join(lines)


SECTION_BEGIN = "<!-- make reproduce: begin (rewritten by `textpro recipe report --update-benchmarks`) -->"
OLD_SECTION_BEGINS = ("<!-- make reproduce: begin (this section is rewritten by its tables step) -->",)  # still found
SECTION_END = "<!-- make reproduce: end -->"


def benchmarks_section(results: dict, figure: str) -> str:
    timing = results.get("timing") or {}
    wall = timing.get("wall_seconds")
    lines = [SECTION_BEGIN, "## Reproduction of the paper's tables on the mini world (`make reproduce`)", "",
             "```bash", "make reproduce   # = textpro recipe reproduce --mini-dir runs/mini --out runs/reproduce "
             "--config configs/reproduce-mini.yaml", "make benchmarks-md  # = textpro recipe report runs/reproduce "
             "--update-benchmarks BENCHMARKS.md (this section)", "```", "",
             f"Generated {time.strftime('%Y-%m-%d')} on {timing.get('cores', '?')} CPU cores: "
             f"{_num(wall / 60 if wall else None, 0)} min wall clock for the mini recipe and every system "
             f"({_num((timing.get('step_seconds') or 0) / 60, 0)} min of steps in two lanes). Every system trains on "
             "the same records for the same steps; raw numbers: [reproduce.json](benchmarks/results/reproduce.json).",
             "", demote_headings(results_markdown(results).split("\n", 2)[2]), "",
             "Step wall times in minutes, in the order they finished (two at a time; the mini recipe's steps are "
             "those of `textpro recipe mini`): " + ", ".join(f"{k} {v}" for k, v in
                                                             (timing.get("step_minutes") or {}).items()) + ".", "",
             f"![gap and paralinguistic accuracy per system]({figure})", "", SECTION_END]
    return "\n".join(lines)


def demote_headings(markdown: str) -> str:
    """## → ### (the tables sit under the section's own heading)."""
    return "\n".join("#" + line if line.startswith("## ") else line for line in markdown.split("\n"))


def replace_section(document: str, section: str) -> str:
    """`document` with make reproduce's section replaced (appended when it has none)."""
    for begin in (SECTION_BEGIN, *OLD_SECTION_BEGINS):
        if begin in document and SECTION_END in document:
            head, rest = document.split(begin, 1)
            return head + section + rest.split(SECTION_END, 1)[1]
    return document.rstrip("\n") + "\n\n" + section + "\n"


def results_chart(results: dict, path: Path) -> Path:
    """Per system: speech accuracy and gap on the multiple-choice questions, paralinguistic average (chance marked)."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never a window
    import matplotlib.pyplot as plt

    main = results["splits"][0]
    systems = [(e["label"], e[main]["average"]) for e in results["systems"].values() if main in e]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    names = [label for label, _ in systems]
    xs = range(len(systems))
    panels = [(axes[0], [a.get("gap") for _, a in systems], "gap, points (text − speech; lower is better)",
               "#DD8452"),
              (axes[1], [a.get("paralinguistic_accuracy") for _, a in systems], "paralinguistic accuracy %",
               "#55A868")]
    for ax, values, title, color in panels:
        ax.bar(list(xs), [v if v is not None and not math.isnan(v) else 0 for v in values], 0.6, color=color)
        for x, v in zip(xs, values, strict=True):
            ax.annotate(_num(v), (x, v if v is not None and not math.isnan(v) else 0), ha="center",
                        va="bottom", fontsize=8)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(list(xs), names, rotation=25, ha="right", fontsize=8)
        ax.set_title(f"{title}, split {main}", fontsize=10)
    chance = [e[main].get("paralinguistic_chance") for e in results["systems"].values() if main in e]
    if any(c is not None for c in chance):
        axes[1].axhline(next(c for c in chance if c is not None), color="black", linestyle="--", linewidth=0.8,
                        label="chance")
        axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
