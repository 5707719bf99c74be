"""Answer extraction: which option letter (or which label) a free-form response chose.

Multiple-choice follows VoiceBench's `mcq` evaluator in spirit (lowercase, strip a leading `<1>`/`<2>`/`<3>`, try
phrase templates in a fixed order, then a leading letter), reimplemented with regular expressions and a few fixes:

- Templates are grouped into tiers, strongest first. Within an *explicit* tier ("the answer is X", "answer: X",
  "I choose X", "X is correct") the first occurrence wins, so "A and B are wrong, the answer is C" gives C.
  Within a *weak* tier ("(X)", "**X**", "option X", a trailing "so X.") every match must name the same letter;
  a response that mentions several letters there is ambiguous and falls through to the next tier.
- A lowercase "a" followed by a word ("the answer is a dog") is the English article, not option A.
- Optionally (`match_option_text=True`, off by default because VoiceBench does not do it) a response that states
  exactly one option's text counts as choosing that option.

What happens when nothing matches is the caller's choice, and the harness reports both: count it as wrong, or
replace it by a letter drawn from a seeded generator keyed by the item (VoiceBench draws an unseeded random letter;
ours is reproducible and independent of the order in which items are scored).
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

from textpro.data.labels import match_label as match_label  # labels: the one matcher, shared with training
from textpro.data.labels import parse_options as parse_options  # shared with the teacher's training

DEFAULT_LETTERS = "abcd"

# `{L}` is replaced by a character class of the valid letters. Letters may be wrapped in brackets, quotes or bold.
_OPEN = r"[\s(\[*'\"]*"
_OPTION_WORD = r"(?:option\s+|choice\s+|letter\s+)?"
_EXPLICIT_TEMPLATES = [
    r"\b(?:final|correct|right|best|my)?\s*answer\s+(?:to\s+(?:the|this)\s+[\w\- ]{0,40}?\s+)?"
    r"(?:is|would\s+be|will\s+be|should\s+be)\s*(?:probably\s+|likely\s+|definitely\s+)?:?\s*"
    + _OPTION_WORD + _OPEN + r"({L})\b",
    r"\banswer\s*[:：]\s*(?:option\s+|choice\s+)?" + _OPEN + r"({L})\b",
    r"\b(?:correct|right|best)\s+(?:option|choice|response)\s+(?:is|would\s+be)\s*:?\s*" + _OPEN + r"({L})\b",
    r"\bi\s+(?:would\s+|will\s+|'d\s+)?(?:choose|select|pick|go\s+with)\s+" + _OPTION_WORD + _OPEN + r"({L})\b",
    r"(?:^|[\s(*'\"])(?:option\s+|choice\s+)?" + _OPEN + r"({L})[)*'\".:]*\s+is\s+(?:the\s+)?(?:correct|right|best)\b",
]
_WEAK_TEMPLATES = [
    r"\(({L})\)",  # (b)
    r"\*\*({L})[.):]?\*\*",  # **b** or **b.**
    r"\b(?:option|choice)\s+({L})\b",  # option b
    r"(?:^|\s)({L})\)",  # b) somewhere
    r"\b(?:so|thus|therefore|hence)\s*,?\s*(?:it'?s\s+|it\s+is\s+)?({L})\s*[.!]?\s*$",  # ... so c.
    r"[\s,:]({L})\s*[.!]?\s*$",  # last token of the response is a letter
]
_LEADING = r"^\s*[(\[*'\"]*({L})(?:[.,:)\]*'\"]|[ \t]*$|[ \t]*\n)"  # "b. paris", "b)", "b" alone on its line
_TAG_PREFIX = re.compile(r"^\s*<[123]>\s*")


@dataclass(frozen=True)
class Extraction:
    """The letter a response chose (lowercase), or None when no rule matched; `rule` says which rule decided."""

    choice: str | None
    rule: str

    @property
    def failed(self) -> bool:
        return self.choice is None


def _letter_class(letters: str) -> str:
    return "[" + re.escape(letters) + "]"


def _is_article(original: str, match: re.Match, group: int = 1) -> bool:
    """A lowercase 'a' followed by a space and a word is the article ("is a dog"), not option A."""
    start, end = match.span(group)
    if original[start:end] != "a":
        return False
    return re.match(r"\s+[^\W\d_]", original[end:]) is not None


def _compile(templates: Sequence[str], letters: str) -> list[re.Pattern]:
    return [re.compile(t.replace("{L}", _letter_class(letters)), re.IGNORECASE | re.MULTILINE) for t in templates]


def extract_choice(
    response: str,
    letters: str = DEFAULT_LETTERS,
    *,
    options: dict[str, str] | None = None,
    match_option_text: bool = False,
) -> Extraction:
    """Which of `letters` (e.g. "abcd") the `response` chose.

    options: letter → option text (from `parse_options(prompt)`), used only when `match_option_text` is True.
    """
    letters = letters.lower()
    text = _TAG_PREFIX.sub("", response or "").strip()
    if not text:
        return Extraction(None, "empty")

    for index, pattern in enumerate(_compile(_EXPLICIT_TEMPLATES, letters)):
        for match in pattern.finditer(text):
            if not _is_article(text, match):
                return Extraction(match.group(1).lower(), f"explicit{index}")

    weak = _compile(_WEAK_TEMPLATES, letters)
    leading = re.compile(_LEADING.replace("{L}", _letter_class(letters)), re.IGNORECASE).match(text)
    if leading and not _is_article(text, leading):
        letter = leading.group(1).lower()
        # "(A) or (B)" lists options rather than choosing one: other bracketed letters veto the leading one.
        bracketed = {m.group(1).lower() for pattern in (weak[0], weak[3]) for m in pattern.finditer(text)}
        if bracketed <= {letter}:
            return Extraction(letter, "leading")

    for index, pattern in enumerate(weak):
        found = {m.group(1).lower() for m in pattern.finditer(text) if not _is_article(text, m)}
        if len(found) == 1:
            return Extraction(found.pop(), f"weak{index}")

    if match_option_text and options:
        chosen = _single_option_text(text, options, letters)
        if chosen is not None:
            return Extraction(chosen, "option_text")
    return Extraction(None, "no_match")


def _normalise(text: str) -> str:
    """Lowercase, punctuation to spaces, single spaces: for comparing phrases, not for finding letters."""
    table = str.maketrans({c: " " for c in string.punctuation + "“”‘’"})
    return " ".join(text.lower().translate(table).split())


def _contains_phrase(haystack: str, phrase: str) -> bool:
    return bool(phrase) and re.search(r"(?:^|\s)" + re.escape(phrase) + r"(?:\s|$)", haystack) is not None


def _single_option_text(text: str, options: dict[str, str], letters: str) -> str | None:
    said = _normalise(text)
    hits = [letter for letter, option in options.items()
            if letter in letters and _contains_phrase(said, _normalise(option))]
    # "4" inside "14 apples" is excluded by whole-phrase matching; one option's text inside another's
    # ("red" / "dark red") keeps only the longest, since saying "dark red" also says "red".
    hits = [h for h in hits
            if not any(h != o and _contains_phrase(_normalise(options[o]), _normalise(options[h])) for o in hits)]
    return hits[0] if len(hits) == 1 else None


def option_letters(prompt: str, reference: str | None = None) -> str:
    """The valid letters for an item: those its prompt lists, else A–D (extended to reach the reference)."""
    options = parse_options(prompt)
    if options:
        letters = "".join(sorted(options))
        if reference and reference.lower() not in letters:
            letters = "".join(sorted(set(letters) | {reference.lower()}))
        return letters
    last = max("d", (reference or "a").lower())
    return string.ascii_lowercase[: string.ascii_lowercase.index(last) + 1]


def seeded_fallback(item_id: str, choices: Sequence[str], seed: int = 0) -> str:
    """What VoiceBench-style scoring substitutes for a failed extraction (a random letter, or label),
    reproducibly per item and independent of the order in which items are scored."""
    return random.Random(f"{seed}:{item_id}").choice(sorted(choices))

