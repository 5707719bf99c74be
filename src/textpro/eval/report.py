"""Reports of an evaluation: results.json (everything), results.md (tables), results.png (bar chart)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import fmean

from textpro.eval.results import EvalResult


def _pct(value: float | None) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def _gap(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f}"


def _na(value: float | None, available: bool) -> str:
    return _pct(value) if available else "n/a"


def _self_agreement(by_change: dict[str, float] | None, available: bool) -> str:
    """The text LLM's self-agreement cell: mean over the content-free changes (lowest–highest)."""
    if not available or not by_change:
        return _na(None, available)
    values = by_change.values()
    return f"{_pct(fmean(values))} ({_pct(min(values))}–{_pct(max(values))})"


def _row(*cells) -> str:
    """One Markdown table row: every table of the report writes its rows (and headers) here."""
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _head(*columns: str, align: str) -> list[str]:
    """A table's header row and alignment row; `align` has one letter a column: l (left) or r (right)."""
    return [_row(*columns), "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]


def _side_pct(side, available: bool) -> str:
    """The accuracy cell of an optional side (cascade, prosody-neutral): "n/a" where the run has no such side, "–"
    where the row has none."""
    return _na(side.accuracy if side else None, available)


def markdown_table(result: EvalResult) -> str:
    """Semantic table (text, speech, gap, failures, cascade, prosody-neutral, agreement) with the paired bootstrap;
    paralinguistic table with its floors and flags; then rules, answer histograms, speakers, phrasings and open
    requests."""
    lines = [f"Benchmark `{result.bench}`, split `{result.split}`. Text side: `{result.text_system or '–'}`; "
             f"speech side: `{result.speech_system or '–'}`; cascade beside it: `{result.cascade_system or 'n/a'}`.",
             ""]
    sections = (_semantic, _paralinguistic, _rules, _histograms, _speakers, _phrasings, _open)
    for section in sections:
        lines += section(result)
    return "\n".join(lines)


def _semantic(result: EvalResult) -> list[str]:
    if not result.semantic:
        return []
    neutral, cascade = result.neutral_available, result.cascade_system is not None
    lines = _head("Task", "n", "Text acc %", "Speech acc %", "Gap (pts)", "Text fail %", "Speech fail %",
                  "Gap, random fallback", "Cascade acc %", "Neutral acc %", "Agreement %",
                  "Text self-agreement %", align="lrrrrrrrrrrr")
    lines += [_row(t.task, t.n, _pct(t.text.accuracy if t.text else None),
                   _pct(t.speech.accuracy if t.speech else None), _gap(t.gap),
                   _pct(t.text.failure_pct if t.text else None), _pct(t.speech.failure_pct if t.speech else None),
                   _gap(t.gap_fallback), _side_pct(t.cascade, cascade), _side_pct(t.neutral, neutral),
                   _na(t.agreement, neutral), _self_agreement(t.text_self_agreement, neutral and t.text is not None))
              for t in result.semantic]
    avg = result.averages()
    lines.append(f"| **average** | {sum(t.n for t in result.semantic)} | {_pct(avg['text_accuracy'])} | "
                 f"{_pct(avg['speech_accuracy'])} | **{_gap(avg['gap'])}** | {_pct(avg['text_failure_pct'])} | "
                 f"{_pct(avg['speech_failure_pct'])} | {_gap(avg['gap_fallback'])} | "
                 f"{_na(avg['cascade_accuracy'], cascade)} | {_na(avg['neutral_accuracy'], neutral)} | "
                 f"{_na(avg['agreement'], neutral)} | "
                 f"{_self_agreement(avg['text_self_agreement_by_change'], neutral and bool(result.text_system))} |")
    lines += ["", "Accuracy counts an answer that no extraction rule recognises as wrong; the fallback column "
              "replaces such answers by a seeded random letter, as VoiceBench does. Cascade: the SLM's own "
              "transcript → the text LLM. Neutral: the same SLM with its prosody replaced by the training mean; "
              "agreement: items whose two answers are identical. Text self-agreement, agreement's reference: items "
              "the text LLM answers identically with and without a change of its text prompt that carries no "
              "content (a trailing space, a trailing newline, a leading space): mean (lowest–highest).", ""]
    if result.bootstrap:
        b = result.bootstrap
        lines += [f"Speech − cascade, paired bootstrap over {b['n']} semantic items: **{_gap(b['mean_difference'])}** "
                  f"points (95% interval {_gap(b['low'])} to {_gap(b['high'])}; {b['resamples']} resamples, "
                  f"seed {b['seed']}).", ""]
    if result.agreement_bootstrap:
        b = result.agreement_bootstrap
        changes = ", ".join(f"{side.removeprefix('text+').replace('-', ' ')} {_pct(v)}"
                            for side, v in b["text_self_agreement_by_change"].items())
        lines += [f"Agreement over {b['n']} generated semantic items: {_pct(b['agreement'])}% (95% interval "
                  f"{_pct(b['agreement_low'])} to {_pct(b['agreement_high'])}); the text LLM's self-agreement on the "
                  f"same items, over the content-free changes: {_pct(b['text_self_agreement'])}% ({changes}); "
                  f"difference, paired bootstrap: **{_gap(b['mean_difference'])}** points (95% interval "
                  f"{_gap(b['low'])} to {_gap(b['high'])}).", ""]
    return lines


def _flags(t) -> str:
    flags = []
    if t.below_rule(t.speech):
        flags.append("below the rule")
    if t.below_rule(t.cascade):
        flags.append("cascade below the rule")
    if t.histogram and t.histogram["one_label"]:
        flags.append(f"one label: {t.histogram['top']} {t.histogram['top_share']:.0f}%")
    return "; ".join(flags)


def _paralinguistic(result: EvalResult) -> list[str]:
    if not result.paralinguistic:
        return []
    neutral, cascade = result.neutral_available, result.cascade_system is not None
    lines = _head("Paralinguistic task", "n", "Labels", "Chance %", "Accuracy %", "Fail %", "Balanced %", "Neutral %",
                  "Agreement %", "Cascade %", "Rule %", "Flags", align="lrlrrrrrrrrl")
    lines += [_row(t.task, t.n, ", ".join(t.labels), _pct(t.chance), _pct(t.speech.accuracy),
                   _pct(t.speech.failure_pct), _pct(t.balanced_accuracy), _side_pct(t.neutral, neutral),
                   _na(t.agreement, neutral), _side_pct(t.cascade, cascade),
                   _na(t.rule["accuracy"] if t.rule else None, t.rule is not None), _flags(t))
              for t in result.paralinguistic]
    lines.append(f"| **average** | {sum(t.n for t in result.paralinguistic)} | | "
                 f"{_pct(sum(t.chance for t in result.paralinguistic) / len(result.paralinguistic))} | "
                 f"**{_pct(result.averages()['paralinguistic_accuracy'])}** | | | | | | | |")
    lines += ["", "Rule: the acoustic-rule baseline (median F0 for gender and pitch, words per second for rate, "
              "thresholds fitted on the train split). Balanced: the mean of the per-label recalls.", ""]
    return lines


def _rules(result: EvalResult) -> list[str]:
    rows = [t for t in result.paralinguistic if t.rule]
    if not rows:
        return []
    lines = _head("Rule", "Feature", "Labels (low → high)", "Thresholds", "Train n", "Train acc %", "n", "Acc %",
                  align="llllrrrr")
    for t in rows:
        r = t.rule
        lines.append(_row(t.task, r["feature"], " < ".join(r["labels"]), ", ".join(f"{x:.2f}" for x in r["thresholds"]),
                          r["train_n"], _pct(r["train_accuracy"]), r["n"], _pct(r["accuracy"])))
    return lines + [""]


def _histograms(result: EvalResult) -> list[str]:
    rows = [t for t in result.paralinguistic if t.histogram]
    if not rows:
        return []
    lines = _head("Answers given", "Share of each label (speech side)", align="ll")
    for t in rows:
        shares = ", ".join(f"{label} {share:.0f}%" for label, share in t.histogram["shares"].items())
        lines.append(_row(f"{t.task}{' (**one label > 60%**)' if t.histogram['one_label'] else ''}", shares))
    return lines + [""]


def _speakers(result: EvalResult) -> list[str]:
    rows = [(t.task, s) for t in result.paralinguistic if t.task == "gender" for s in t.speakers]
    if not rows:
        return []
    lines = _head("Speaker (gender task)", "Labels", "n", "Accuracy %", align="llrr")
    lines += [_row(s["voice"], ", ".join(s["labels"]), s["n"], _pct(s["accuracy"])) for _, s in rows]
    return lines + [""]


def _phrasings(result: EvalResult) -> list[str]:
    rows = []
    for t in result.paralinguistic:
        groups = {**t.phrasing.get("forms", {}), **{k: v for k, v in t.phrasing.items() if k != "forms"}}
        rows += [(t.task, name, g) for name, g in groups.items()]
    if not rows:
        return []
    lines = _head("Phrasing", "Form or seen in train", "n", "Accuracy %", align="llrr")
    lines += [_row(task, name, g["n"], _pct(g["accuracy"])) for task, name, g in rows]
    return lines + [""]


def _open(result: EvalResult) -> list[str]:
    if not result.open:
        return []
    lines = _head("Open requests", "n", "ROUGE-L F vs text LLM", "Length ratio", "Cascade ROUGE-L",
                  "Cascade length ratio", "ROUGE-L vs text LLM, same transcript", align="lrrrrrr")
    for t in result.open:
        c, same = t.cascade or {}, t.same_transcript or {}
        lines.append(_row(t.task, t.n, _rouge(t.speech), _num(t.speech["length_ratio"]),
                          _rouge(c), _num(c.get("length_ratio")), _rouge(same)))
    backend = result.open[0].speech["backend"]
    return lines + ["", f"ROUGE-L computed with {backend}, mean (95% bootstrap interval over the requests); against "
                    "the text LLM's answer to the ground-truth text, and (last column) to the speech system's own "
                    "transcript, the cascade's answer: what the LLM changed, transcription errors left out; length "
                    "ratio = answer words / text LLM answer words.", ""]


def _rouge(scores: dict) -> str:
    """A mean ROUGE-L with its interval where the scores have one (results written before it was added do not)."""
    interval = scores.get("rouge_l_interval")
    return _num(scores.get("rouge_l")) + (f" ({interval[0]:.2f}–{interval[1]:.2f})" if interval else "")


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


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
    paths["json"].write_text(json.dumps(without_nan(result.to_dict()), indent=2) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown_table(result), encoding="utf-8")
    bar_chart(result, paths["png"])
    return paths


def without_nan(value):
    """NaN is not JSON; an undefined number is written as null."""
    if isinstance(value, dict):
        return {k: without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nan(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value
