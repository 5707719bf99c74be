"""Answer extraction on a table of real-looking responses."""

import pytest

from textpro.eval.extract import extract_choice, match_label, option_letters, parse_options, seeded_fallback

PROMPT = "Which planet is known as the Red Planet?\nA. Venus\nB. Mars\nC. Jupiter\nD. Saturn"

# (response, expected letter or None for an extraction failure)
RESPONSES = [
    ("B", "b"),
    ("b.", "b"),
    ("(C)", "c"),
    ("**D**", "d"),
    ("B. Mars", "b"),
    ("C) Jupiter", "c"),
    ("A: Venus is the closest to the Sun", "a"),
    ("The answer is B.", "b"),
    ("the answer is (d)", "d"),
    ("The correct answer is: **C**", "c"),
    ("Answer: d", "d"),
    ("ANSWER: A", "a"),
    ("A and B are wrong, the answer is C", "c"),
    ("Option A is wrong and option D is wrong; the correct answer is B because Mars is red.", "b"),
    ("I think (B)", "b"),
    ("I would choose option C.", "c"),
    ("I'd go with D", "d"),
    ("B is correct: Mars looks red because of iron oxide.", "b"),
    ("The capital is Paris, so C.", "c"),
    ("Mars, which is option B.", "b"),
    ("<1> The answer is A", "a"),
    ("<2>b", "b"),
    ("The final answer is **A**.", "a"),
    ("The answer to this question is D", "d"),
    ("My answer would be 'C'", "c"),
    ("The best answer is option B, Mars.", "b"),
    ("B\n\nExplanation: Mars is red because of rust on its surface.", "b"),
    ("", None),
    ("   ", None),
    ("None of the above", None),
    ("I don't know.", None),
    ("Mars is the Red Planet.", None),  # the option's text, not its letter: a failure unless match_option_text
    ("The answer is a planet with red soil.", None),  # "a" is the article here
    ("A dog is not a planet.", None),  # leading article, not option A
    ("(A) or (B), I am not sure.", None),  # two letters in one weak rule: ambiguous
    ("The answer is E", None),  # not one of the options
    ("A planet named Mars; the answer is B", "b"),
]


@pytest.mark.parametrize(("response", "expected"), RESPONSES, ids=[repr(r)[:40] for r, _ in RESPONSES])
def test_extract_choice(response, expected):
    assert extract_choice(response, "abcd").choice == expected


def test_table_is_large_enough():
    assert len(RESPONSES) >= 30


def test_option_text_match_is_optional():
    options = parse_options(PROMPT)
    assert options == {"a": "Venus", "b": "Mars", "c": "Jupiter", "d": "Saturn"}
    said = "Mars is the Red Planet."
    assert extract_choice(said, "abcd", options=options).choice is None
    assert extract_choice(said, "abcd", options=options, match_option_text=True).choice == "b"
    # Naming two options' texts is not an answer.
    assert extract_choice("Mars or Venus", "abcd", options=options, match_option_text=True).choice is None
    # One option's text inside another's: the longer one was said.
    nested = {"a": "red", "b": "dark red", "c": "blue", "d": "green"}
    assert extract_choice("It is dark red.", "abcd", options=nested, match_option_text=True).choice == "b"


def test_parse_options_inline_and_letters():
    inline = "What is 2+2? A. 3 B. 4 C. 5 D. 22"
    assert parse_options(inline) == {"a": "3", "b": "4", "c": "5", "d": "22"}
    assert option_letters(inline) == "abcd"
    assert option_letters("no options listed", "b") == "abcd"
    assert option_letters("Pick one.\n(A) x\n(B) y\n(C) z", "c") == "abc"
    assert option_letters("no options listed", "f") == "abcdef"


def test_letters_outside_the_item_are_ignored():
    assert extract_choice("The answer is D", "abc").choice is None
    assert extract_choice("The answer is F", "abcdefghij").choice == "f"


def test_seeded_fallback_is_reproducible_and_order_free():
    draws = [seeded_fallback(f"item{i}", "abcd", seed=0) for i in range(200)]
    assert draws == [seeded_fallback(f"item{i}", "abcd", seed=0) for i in range(200)]
    assert set(draws) == set("abcd")
    assert draws != [seeded_fallback(f"item{i}", "abcd", seed=1) for i in range(200)]
    assert seeded_fallback("x", ("female", "male")) in ("female", "male")


@pytest.mark.parametrize(("response", "labels", "expected"), [
    ("female", ["female", "male"], "female"),
    ("Female.", ["female", "male"], "female"),
    ("The speaker is female.", ["female", "male"], "female"),
    ("The speaker sounds male.", ["female", "male"], "male"),  # whole words: "male" is not found in "female"
    ("It could be male or female.", ["female", "male"], None),
    ("I cannot tell.", ["female", "male"], None),
    ("", ["female", "male"], None),
    ("**HIGH**", ["high", "low", "medium"], "high"),
    ("The pitch is low.", ["high", "low", "medium"], "low"),
])
def test_match_label(response, labels, expected):
    assert match_label(response, labels) == expected


def test_match_label_multiword():
    labels = ["british english", "american english", "scottish english"]
    assert match_label("This sounds like British English to me.", labels) == "british english"
    assert match_label("English", labels) is None
