"""Segments for `verbose_json` transcriptions: the words grouped into phrases, as OpenAI's segments are.

WhisperPro returns one token stream per clip (no timestamp tokens), so phrases are cut where a word ends a
sentence or a pause between words is long.
"""

from __future__ import annotations

PAUSE_SECONDS = 0.5  # a gap this long between two words starts a new segment
SENTENCE_END = (".", "?", "!")


def segments_of(words: list[dict]) -> list[dict]:
    """words: [{"text", "start", "end", "f0_mean", "energy_db", ...}] -> [{"id", "start", "end", "text", ...}]."""
    groups: list[list[dict]] = []
    for word in words:
        new = (not groups or word["start"] - groups[-1][-1]["end"] >= PAUSE_SECONDS
               or groups[-1][-1]["text"].rstrip().endswith(SENTENCE_END))
        if new:
            groups.append([word])
        else:
            groups[-1].append(word)
    segments = []
    for i, group in enumerate(groups):
        voiced = [w["f0_mean"] for w in group if w.get("f0_mean") is not None]
        segments.append({
            "id": i, "start": group[0]["start"], "end": group[-1]["end"],
            "text": "".join(w["text"] if w["text"].startswith(" ") or j == 0 else " " + w["text"]
                            for j, w in enumerate(group)).strip(),
            "f0_mean": round(sum(voiced) / len(voiced), 1) if voiced else None,
        })
    return segments
