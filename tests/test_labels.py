"""The shared label matcher (textpro.data.labels.match_label): training and evaluation read answers the same way."""

import pytest

from textpro.data import labels as labels_module
from textpro.data.labels import match_label

GENDER, PITCH, RATE = ["male", "female"], ["low", "mid", "high"], ["slow", "normal", "fast"]
SYNONYMS = {"female": ["woman", "feminine"], "male": ["man", "masculine"], "fast": ["quickly", "quick"],
            "slow": ["slowly"], "low": ["deep", "low-pitched"], "high": ["high-pitched"]}


@pytest.mark.parametrize(("answer", "labels", "expected"), [
    ("female", GENDER, "female"),
    ("The speaker sounds male.", GENDER, "male"),  # whole words: "male" is not inside "female"
    ("FEMALE!", GENDER, "female"),
    ("It could be male or female.", GENDER, None),  # two labels affirmed: ambiguous
    ("I cannot tell.", GENDER, None),
    ("", GENDER, None),
    ("high, not low", PITCH, "high"),  # the case the two old matchers disagreed on
    ("Not low but high.", PITCH, "high"),
    ("It is not fast.", RATE, None),
    ("The speaker isn't female.", GENDER, None),
    ("Not very fast, rather slow.", RATE, "slow"),
    ("Neither fast nor slow.", RATE, None),
])
def test_whole_words_and_negations(answer, labels, expected):
    assert match_label(answer, labels, synonyms={}) == expected


@pytest.mark.parametrize(("answer", "labels", "expected"), [
    ("A woman is speaking.", GENDER, "female"),
    ("It is a man.", GENDER, "male"),  # "man" is not found inside "woman"
    ("She talks quickly.", RATE, "fast"),
    ("A deep voice.", PITCH, "low"),
    ("Low-pitched.", PITCH, "low"),
    ("Quite high-pitched, not deep at all.", PITCH, "high"),
    ("Not a woman, a man.", GENDER, "male"),
    ("woman or man?", GENDER, None),
])
def test_synonyms_map_to_their_label(answer, labels, expected):
    assert match_label(answer, labels, synonyms=SYNONYMS) == expected


@pytest.mark.parametrize(("answer", "labels", "yes_label", "expected"), [
    ("Yes.", GENDER, "female", "female"),
    ("Yes, it is a woman.", GENDER, "female", "female"),
    ("No, male.", GENDER, "female", "male"),  # the label said, not "no" negating it
    ("Male, so no.", GENDER, "female", "male"),  # the training answer's form: the label first
    ("Low, so yes.", PITCH, "low", "low"),
    ("No.", GENDER, "female", "male"),  # binary: the other label
    ("No, it isn't a woman.", GENDER, "female", "male"),
    ("No.", PITCH, "high", None),  # three labels: "not high" names none
    ("No, low.", PITCH, "high", "low"),
    ("Yes.", GENDER, None, None),  # without a yes/no question, "yes" names nothing
])
def test_yes_no_answers(answer, labels, yes_label, expected):
    assert match_label(answer, labels, synonyms=SYNONYMS, yes_label=yes_label) == expected


def test_default_synonyms_come_from_the_data_module(monkeypatch):
    from textpro.data import paralinguistic

    monkeypatch.setattr(paralinguistic, "SYNONYMS", {"gender": {"female": ["woman"], "male": ["man"]},
                                                     "pitch": {"low": ["deep"]}}, raising=False)
    assert match_label("A woman.", GENDER) == "female"
    assert match_label("Deep.", PITCH) == "low"
    assert match_label("Deep.", GENDER) is None  # only the synonyms of the labels asked about
    monkeypatch.delattr(paralinguistic, "SYNONYMS", raising=False)
    assert labels_module._default_synonyms(GENDER) == {}


def test_training_and_evaluation_share_the_matcher():
    from textpro.eval.extract import match_label as eval_match
    from textpro.slm.tasks import match_label as train_match

    for answer in ("high, not low", "A deep voice.", "It could be low or high."):
        assert train_match(answer, PITCH) == eval_match(answer, PITCH) == match_label(answer, PITCH)


def test_a_label_named_outweighs_a_synonym_of_another():
    accents = ["american", "british", "scottish"]
    synonyms = {"american": ["us"], "british": ["english"]}
    assert match_label("It sounds like American English.", accents, synonyms=synonyms) == "american"
    assert match_label("Let us say scottish.", accents, synonyms=synonyms) == "scottish"
    assert match_label("English, I think.", accents, synonyms=synonyms) == "british"
    assert match_label("A woman, not male.", GENDER, synonyms=SYNONYMS) == "female"
