"""Pair items (spoken StoryCloze): which of two endings a model finds likelier after the story.

The sSC/tSC authors score a spoken LM by the likelihood of each of the two clips (story + ending) and pick the higher
(slp-rl/slamkit, `metric/modelling_metric.py`: mean log-likelihood per token); their cross-modal variant gives the
story in one modality and scores the ending in another (`metric/cross_modal_metric.py`). A TextPro-SLM reads speech
as text + prosody and answers in text, so here the story is the input and each ending is scored as the answer, by
its mean log-probability per token (`text_llm.response_logprobs`, `TextProSLM.response_logprobs`):

- the text LLM: the story's text in, each ending's text scored (needs the record's `options_text`);
- the TextPro-SLM: each clip's story as speech (WhisperPro's tokens and prosody vectors before the ending,
  `Transcriber.without_last_words`), its ending's text scored: the record's text where given, else the transcript's;
  again with the prosody replaced by the training mean (prosody-neutral);
- the cascade: the same transcript's story as text into the text LLM, the same ending scored.

Story and ending: a pair's two texts share the story word for word and differ in the ending, so the ending is what
follows their longest common word prefix. In a transcript the ending is its last as many words as that ending has
(an ASR error in the story then does not move the boundary).

A side's cached response is the two scores as JSON; its answer is the letter of the higher, "" on a tie (scored as
a failure, with the harness's seeded fallback letter, as a tie counts half in slamkit).
"""

from __future__ import annotations

import json

from textpro.errors import DataError

LETTERS = ("a", "b")


def _norm(word: str) -> str:
    return "".join(ch for ch in word.lower() if ch.isalnum())


def story_and_endings(texts: dict[str, str]) -> tuple[str, dict[str, str]]:
    """(story, letter → ending) of two whole-story texts: the story is their longest common word prefix (compared
    without case and punctuation), each ending the rest of its text."""
    a, b = (texts[letter].split() for letter in LETTERS)
    shared = 0
    while shared < min(len(a), len(b)) and _norm(a[shared]) == _norm(b[shared]):
        shared += 1
    endings = {letter: " ".join(words[shared:]) for letter, words in zip(LETTERS, (a, b), strict=True)}
    if not all(endings.values()):
        raise DataError(f"pair texts {texts['a'][:40]!r} and {texts['b'][:40]!r}: one is the start of the other, "
                        "no two endings to compare")
    return " ".join(a[:shared]), endings


def without_last_words(text: str, count: int) -> str:
    """The text before its last `count` words (a transcript's story, its ending being `count` words long)."""
    words = text.split()
    return " ".join(words[:max(0, len(words) - count)])


def response(scores: dict[str, float]) -> str:
    """What the response cache keeps for one side on one pair: the two scores."""
    return json.dumps({letter: round(float(scores[letter]), 6) for letter in LETTERS})


def choice(cached: str) -> str:
    """The letter of the higher score in a cached response; "" on a tie."""
    scores = json.loads(cached)
    if scores["a"] == scores["b"]:
        return ""
    return "a" if scores["a"] > scores["b"] else "b"


def text_scores(scorer, items) -> list[str]:
    """The text side's responses: each item's story text in, each ending's text scored. scorer: anything with
    `response_logprobs(list[(user, response)]) -> list[float]`."""
    turns = []
    for item in items:
        story, endings = story_and_endings(item.options)
        turns += [(story, endings[letter]) for letter in LETTERS]
    scores = scorer.response_logprobs(turns)
    return [response(dict(zip(LETTERS, scores[2 * i:2 * i + 2], strict=True))) for i in range(len(items))]
