"""Which label a free-form answer names: the one matcher for training (`slm.tasks`) and evaluation (`eval`); and
which options a multiple-choice prompt lists (`parse_options`, for `eval` and the teacher's training).

    match_label("The speaker is a woman.", ["male", "female"])               -> "female"  (synonym)
    match_label("High, not low.", ["low", "mid", "high"])                    -> "high"    (negated mention skipped)
    match_label("It could be male or female.", ["male", "female"])          -> None      (two labels: ambiguous)
    match_label("No, male.", ["male", "female"], yes_label="female")         -> "male"    (the label said wins)
    match_label("No.", ["male", "female"], yes_label="female")               -> "male"    (binary: the other one)

Mentions are whole words or phrases, case-insensitive ("female" does not contain "male"); of two overlapping
mentions the longer wins ("british english" over "english"). A label said by its own name outweighs one said only by
a synonym ("American English" with english → british: american; "tell us, scottish" with us → american: scottish).
A mention is negated when a negation word stands
within three words before it in the same clause (clauses end at punctuation and "but"): "not fast", "isn't
female", "not very high".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

NEGATIONS = {"not", "no", "never", "neither", "nor", "isn't", "isnt", "aren't", "wasn't", "doesn't", "don't",
             "didn't", "hardly", "nothing"}
NEGATION_REACH = 3  # words before a mention in which a negation applies to it
YES = {"yes", "yeah", "yep", "correct", "right", "indeed", "sure"}
NO = {"no", "nope", "incorrect"}
_CLAUSE_BREAK = re.compile(r"[.,;:!?()\[\]\n]+|\bbut\b")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_TAG_PREFIX = re.compile(r"^\s*<\d>\s*")  # VoiceBench-style "<1>" answer tags


def _default_synonyms(labels: Sequence[str]) -> dict[str, list[str]]:
    """The synonyms of `textpro.data.paralinguistic.SYNONYMS` ({task: {label: [words]}}) for these labels: the task
    whose label set is exactly these labels, else every task's synonyms of these labels. Empty before it exists."""
    from textpro.data import paralinguistic

    by_task = getattr(paralinguistic, "SYNONYMS", None) or {}
    exact = [words for words in by_task.values() if set(words) == set(labels)]
    merged: dict[str, list[str]] = {}
    for words in exact or by_task.values():
        for label, synonyms in words.items():
            if label in labels:
                merged.setdefault(label, []).extend(synonyms)
    return merged


def _clauses(answer: str) -> list[list[str]]:
    text = _TAG_PREFIX.sub("", answer or "").lower().replace("’", "'").replace("-", " ").replace("_", " ")
    return [_WORD.findall(part) for part in _CLAUSE_BREAK.split(text)]


def _mentions(words: list[str], terms: Mapping[tuple[str, ...], tuple[str, bool]]) -> list[tuple[str, bool, bool]]:
    """(label, named directly, negated) for each mention in one clause; longer terms first, a word belongs to one
    mention."""
    taken = [False] * len(words)
    found = []
    for term in sorted(terms, key=len, reverse=True):
        for start in range(len(words) - len(term) + 1):
            span = range(start, start + len(term))
            if tuple(words[start:start + len(term)]) == term and not any(taken[i] for i in span):
                for i in span:
                    taken[i] = True
                negated = any(w in NEGATIONS for w in words[max(0, start - NEGATION_REACH):start])
                found.append((start, *terms[term], negated))
    return [mention for _, *mention in sorted(found)]


def _yes_or_no(clauses: list[list[str]]) -> str | None:
    first = next((words[0] for words in clauses if words), None)
    return "yes" if first in YES else "no" if first in NO else None


def match_label(answer: str, labels: Sequence[str], synonyms: Mapping[str, Sequence[str]] | None = None,
                yes_label: str | None = None) -> str | None:
    """The one label `answer` affirms, or None (no label, or several).

    synonyms: label → other words for it (woman → female); default: `textpro.data.paralinguistic.SYNONYMS`.
    yes_label: for a yes/no question ("Is this a woman speaking?"), the label a "yes" means. An answer that names a
    label still means that label ("No, male."); a bare "yes" means yes_label; a bare "no" (or a negated yes_label)
    means the other label of a two-label task, and nothing for larger label sets.
    """
    synonyms = _default_synonyms(labels) if synonyms is None else synonyms
    terms = {}
    for label in labels:
        for index, word in enumerate([label, *synonyms.get(label, ())]):
            term = tuple(_WORD.findall(word.lower().replace("-", " ")))
            if term:
                terms.setdefault(term, (label, index == 0))
    clauses = _clauses(answer)
    mentions = [m for words in clauses for m in _mentions(words, terms)]
    affirmed = {label for label, direct, negated in mentions if direct and not negated} or {
        label for label, _, negated in mentions if not negated}
    if len(affirmed) == 1:
        return affirmed.pop()
    if affirmed or yes_label is None:
        return None
    said = _yes_or_no(clauses)
    if said == "yes" and not mentions:
        return yes_label
    denied = said == "no" or any(label == yes_label and negated for label, _, negated in mentions)
    others = [label for label in labels if label != yes_label]
    return others[0] if denied and len(others) == 1 else None


# ---- multiple choice: the options a prompt lists (evaluation's extraction and the teacher's training read them) ----

_OPTION_LINE = re.compile(r"^\s*\(?([A-Ja-j])[.):]\s+(.+?)\s*$", re.MULTILINE)
_OPTION_INLINE = re.compile(r"(?:^|\s)\(?([A-J])[.)]\s+(.+?)(?=\s+\(?[A-J][.)]\s|$)", re.DOTALL)


def parse_options(prompt: str) -> dict[str, str]:
    """Letter (lowercase) → option text, from a prompt that lists options as "A. ..." / "(B) ..." lines
    (or inline "A. x B. y"). Empty when the prompt lists fewer than two options."""
    options = {m.group(1).lower(): m.group(2) for m in _OPTION_LINE.finditer(prompt or "")}
    if len(options) < 2:
        options = {m.group(1).lower(): m.group(2).strip() for m in _OPTION_INLINE.finditer(prompt or "")}
    return options if len(options) >= 2 else {}
