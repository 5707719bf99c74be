"""Multiple-choice questions (A–D) for the semantic half of the mini world.

Simple questions that a small instruction-tuned LLM can answer as text (or learn to): everyday facts,
arithmetic in words, comparisons, categories, sequences and opposites. Each *template* is a phrasing with slots;
templates, not slot values, are split between train / dev / test (`template_split`), so a test question is never
a rewording the model was trained on. Numbers are written as words, as a speaker would say them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LETTERS = "ABCD"
SPLITS = ("train", "dev", "test")


@dataclass
class Question:
    template: str  # template id, e.g. "arithmetic/add-2"
    kind: str
    question: str
    choices: list[str]  # four options, in the order spoken
    answer: int  # index of the correct option

    @property
    def reference(self) -> str:
        return LETTERS[self.answer]

    def prompt(self) -> str:
        """The text version, VoiceBench style: question, then one option per line."""
        options = "\n".join(f"{letter}. {choice}" for letter, choice in zip(LETTERS, self.choices, strict=True))
        return f"{self.question}\n{options}"

    def spoken(self) -> str:
        """What the voice says. 'A, ten.' not 'A. ten.': espeak reads a lone 'A.' as the article 'uh'."""
        options = " ".join(f"{letter}, {choice}." for letter, choice in zip(LETTERS, self.choices, strict=True))
        return f"{self.question} {options}"


# ---------------------------------------------------------------------------------------------- number words
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> str:
    """0..999 in words: 42 → 'forty two' (no hyphen: espeak gives the second half no word event otherwise)."""
    if not 0 <= n < 1000:
        raise ValueError(n)
    if n < 20:
        return _UNITS[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _UNITS[n % 10])
    rest = n % 100
    return _UNITS[n // 100] + " hundred" + ("" if rest == 0 else " and " + number_words(rest))


# ---------------------------------------------------------------------------------------------- word banks
CATEGORIES: dict[str, tuple[str, list[str]]] = {  # name → (singular phrase, members)
    "fruit": ("a fruit", ["apple", "banana", "orange", "grape", "pear", "cherry", "peach", "lemon", "mango"]),
    "animal": ("an animal", ["dog", "horse", "rabbit", "tiger", "elephant", "monkey", "sheep", "bear", "fox"]),
    "color": ("a color", ["red", "blue", "green", "yellow", "purple", "orange", "pink", "brown", "black"]),
    "vehicle": ("a vehicle", ["car", "bus", "truck", "train", "bicycle", "boat", "airplane", "taxi"]),
    "furniture": ("a piece of furniture", ["chair", "table", "sofa", "bed", "desk", "shelf", "cupboard"]),
    "clothing": ("a piece of clothing", ["shirt", "jacket", "sock", "hat", "scarf", "dress", "coat", "skirt"]),
    "instrument": ("a musical instrument", ["piano", "guitar", "violin", "drum", "flute", "trumpet", "harp"]),
    "vegetable": ("a vegetable", ["carrot", "potato", "onion", "cabbage", "pea", "lettuce", "broccoli"]),
    "drink": ("a drink", ["milk", "juice", "tea", "coffee", "water", "lemonade", "cocoa"]),
    "body": ("a part of the body", ["hand", "foot", "nose", "ear", "knee", "elbow", "shoulder", "finger"]),
    "tool": ("a tool", ["hammer", "saw", "screwdriver", "wrench", "drill", "shovel", "ladder"]),
    "sport": ("a sport", ["football", "tennis", "golf", "swimming", "basketball", "hockey", "cricket"]),
    "weather": ("a kind of weather", ["rain", "snow", "wind", "fog", "hail", "sunshine", "thunder"]),
}
VERB_OF_CATEGORY = {"fruit": "eat", "vegetable": "eat", "drink": "drink", "clothing": "wear",
                    "instrument": "play music on", "vehicle": "ride in"}
ANIMAL_SIZES = ["ant", "bee", "mouse", "frog", "rabbit", "cat", "dog", "sheep", "horse", "giraffe", "elephant",
                "whale"]  # smallest → biggest
DURATIONS = ["second", "minute", "hour", "day", "week", "month", "year", "century"]  # shortest → longest
SPEEDS = ["snail", "turtle", "person walking", "bicycle", "horse", "car", "train", "airplane"]  # slowest → fastest
WEIGHTS = ["feather", "leaf", "coin", "apple", "book", "chair", "bicycle", "car", "truck"]  # lightest → heaviest
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = ("January February March April May June July August September October November December").split()
SEASONS = ["spring", "summer", "autumn", "winter"]
OPPOSITES = [("hot", "cold"), ("big", "small"), ("up", "down"), ("fast", "slow"), ("happy", "sad"),
             ("day", "night"), ("open", "closed"), ("full", "empty"), ("wet", "dry"), ("old", "young"),
             ("light", "dark"), ("early", "late"), ("loud", "quiet"), ("hard", "soft"), ("long", "short"),
             ("first", "last"), ("push", "pull"), ("inside", "outside"), ("win", "lose"), ("rich", "poor")]
LEGS = {"dog": "four", "cat": "four", "horse": "four", "bird": "two", "chicken": "two", "spider": "eight",
        "ant": "six", "bee": "six", "duck": "two", "cow": "four"}
THING_COLORS = {"a banana": "yellow", "grass": "green", "snow": "white", "coal": "black", "a tomato": "red",
                "the sky on a clear day": "blue", "a carrot": "orange", "a lemon": "yellow", "milk": "white",
                "a strawberry": "red", "a leaf in summer": "green"}
ANIMAL_SOUNDS = {"dog": "bark", "cat": "meow", "cow": "moo", "duck": "quack", "lion": "roar", "sheep": "baa",
                 "owl": "hoot", "snake": "hiss", "horse": "neigh", "bee": "buzz"}
BABY_ANIMALS = {"cat": "kitten", "dog": "puppy", "cow": "calf", "sheep": "lamb", "horse": "foal",
                "duck": "duckling", "frog": "tadpole", "bear": "cub", "goat": "kid", "hen": "chick"}
TOOLS_FOR = {"cut paper": "scissors", "write a letter": "pen", "sweep the floor": "broom",
             "eat soup": "spoon", "dig a hole": "shovel", "hit a nail": "hammer", "tell the time": "clock",
             "unlock a door": "key", "take a photo": "camera", "see in the dark": "flashlight"}
GENERAL_FACTS = [  # (question, answer, distractors)
    ("How many days are in a week?", "seven", ["five", "ten", "twelve"]),
    ("What do bees make?", "honey", ["milk", "bread", "silk"]),
    ("What is frozen water called?", "ice", ["steam", "sand", "glass"]),
    ("Which season is usually the coldest?", "winter", ["summer", "spring", "autumn"]),
    ("How many hours are in a day?", "twenty four", ["twelve", "sixty", "ten"]),
    ("Where do people go to borrow books?", "a library", ["a bakery", "a garage", "a farm"]),
    ("What do plants need from the sun to grow?", "light", ["sand", "noise", "plastic"]),
    ("Which meal do people eat in the morning?", "breakfast", ["dinner", "supper", "dessert"]),
    ("What do you wear on your feet?", "shoes", ["gloves", "hats", "scarves"]),
    ("Which animal has a very long neck?", "a giraffe", ["a pig", "a rabbit", "a mouse"]),
    ("What falls from the clouds when it rains?", "water", ["sand", "leaves", "stones"]),
    ("Where does a fish live?", "in water", ["in a tree", "in the desert", "under a bed"]),
    ("How many months are in a year?", "twelve", ["ten", "seven", "thirty"]),
    ("What do we use our eyes for?", "to see", ["to hear", "to smell", "to taste"]),
    ("What shape is a ball?", "round", ["square", "flat", "triangular"]),
    ("Which is the closest star to the Earth?", "the Sun", ["the Moon", "Mars", "a cloud"]),
    ("What do you call a doctor for animals?", "a vet", ["a pilot", "a chef", "a baker"]),
    ("What do people use an umbrella for?", "to stay dry", ["to cook food", "to cut wood", "to swim"]),
    ("Where does bread usually come from?", "a bakery", ["a library", "a bank", "a post office"]),
    ("How many wheels does a bicycle have?", "two", ["four", "three", "six"]),
]


# ---------------------------------------------------------------------------------------------- helpers
def _pick(rng: np.random.Generator, items, k: int = 1):
    idx = rng.choice(len(items), size=k, replace=False)
    return [items[i] for i in idx] if k > 1 else items[idx[0]]


def _number_options(rng: np.random.Generator, answer: int, low: int = 0, high: int = 100) -> list[str]:
    """The answer and three nearby wrong numbers (near misses are what a careless listener would pick)."""
    wrong: set[int] = set()
    while len(wrong) < 3:
        candidate = answer + int(rng.choice([-3, -2, -1, 1, 2, 3, 10, -10]))
        if low <= candidate <= high and candidate != answer:
            wrong.add(candidate)
    return [number_words(answer)] + [number_words(w) for w in sorted(wrong)]


def _others(rng, pool, answer, k=3):
    return _pick(rng, [x for x in dict.fromkeys(pool) if x != answer], k)


Maker = Callable[[np.random.Generator], tuple[str, list[str]]]  # → (question, [answer, 3 distractors])


@dataclass(frozen=True)
class Template:
    id: str
    kind: str
    make: Maker


def _arithmetic() -> list[Template]:
    objects = ["apples", "books", "pencils", "cookies", "balloons", "stamps", "marbles", "flowers"]
    names = ["Tom", "Anna", "Sam", "Lucy", "Ben", "Maria", "Jack", "Emma"]

    def add(phrase):
        def make(rng):
            a, b = int(rng.integers(1, 13)), int(rng.integers(1, 13))
            return phrase.format(a=number_words(a), b=number_words(b), o=_pick(rng, objects),
                                 n=_pick(rng, names)), _number_options(rng, a + b)
        return make

    def sub(phrase):
        def make(rng):
            b = int(rng.integers(1, 10))
            a = b + int(rng.integers(1, 12))
            return phrase.format(a=number_words(a), b=number_words(b), o=_pick(rng, objects),
                                 n=_pick(rng, names)), _number_options(rng, a - b)
        return make

    def mul(phrase):
        def make(rng):
            a, b = int(rng.integers(2, 6)), int(rng.integers(2, 6))
            return phrase.format(a=number_words(a), b=number_words(b), o=_pick(rng, objects)), \
                _number_options(rng, a * b)
        return make

    specs = [
        ("add-1", add("What is {a} plus {b}?")),
        ("sub-1", sub("What is {a} minus {b}?")),
        ("add-2", add("{n} has {a} {o} and gets {b} more. How many {o} does {n} have now?")),
        ("mul-1", mul("What is {a} times {b}?")),
        ("sub-2", sub("{n} had {a} {o} and gave away {b}. How many {o} are left?")),
        ("add-3", add("What is the sum of {a} and {b}?")),
        ("sub-3", sub("Take {b} away from {a}. What number is left?")),
        ("mul-2", mul("There are {a} boxes with {b} {o} in each box. How many {o} are there in all?")),
        ("add-4", add("If you add {a} and {b}, what do you get?")),
        ("sub-4", sub("What do you get when you subtract {b} from {a}?")),
    ]
    return [Template(f"arithmetic/{name}", "arithmetic", make) for name, make in specs]


def _comparison() -> list[Template]:
    def ranked(phrase, scale, want_max):
        def make(rng):
            idx = sorted(rng.choice(len(scale), size=4, replace=False))
            options = [scale[i] for i in idx]
            answer = options[-1] if want_max else options[0]
            return phrase, [answer] + [o for o in options if o != answer]
        return make

    def numbers(phrase, want_max):
        def make(rng):
            values = sorted(int(v) for v in rng.choice(np.arange(1, 100), size=4, replace=False))
            answer = values[-1] if want_max else values[0]
            return phrase, [number_words(answer)] + [number_words(v) for v in values if v != answer]
        return make

    def greater_than(rng):
        n = int(rng.integers(20, 80))
        answer = n + int(rng.integers(1, 15))
        smaller = [int(v) for v in rng.choice(np.arange(1, n), size=3, replace=False)]
        return f"Which of these numbers is bigger than {number_words(n)}?", \
            [number_words(answer)] + [number_words(v) for v in smaller]

    specs = [
        ("largest-number", numbers("Which number is the largest?", True)),
        ("biggest-animal", ranked("Which of these animals is the biggest?", ANIMAL_SIZES, True)),
        ("longest-time", ranked("Which of these is the longest amount of time?", DURATIONS, True)),
        ("smallest-number", numbers("Which number is the smallest?", False)),
        ("fastest", ranked("Which of these is the fastest?", SPEEDS, True)),
        ("heaviest", ranked("Which of these is the heaviest?", WEIGHTS, True)),
        ("smallest-animal", ranked("Which of these animals is the smallest?", ANIMAL_SIZES, False)),
        ("greater-than", greater_than),
        ("shortest-time", ranked("Which of these is the shortest amount of time?", DURATIONS, False)),
        ("slowest", ranked("Which of these is the slowest?", SPEEDS, False)),
    ]
    return [Template(f"comparison/{name}", "comparison", make) for name, make in specs]


def _category_options(rng, category, verb: str | None = None):
    """A member of `category` and three words from other categories that share no word with it (and, for a
    "which can you eat" question, are not eaten either)."""
    others = [c for c in CATEGORIES if c != category and not set(CATEGORIES[c][1]) & set(CATEGORIES[category][1])
              and (verb is None or VERB_OF_CATEGORY.get(c) != verb)]
    answer = _pick(rng, CATEGORIES[category][1])
    distractors: list[str] = []
    while len(distractors) < 3:  # words such as "orange" sit in two categories: draw until all differ
        distractors = list(dict.fromkeys(_pick(rng, CATEGORIES[c][1]) for c in _pick(rng, others, 3)))
    return answer, distractors


def _categories() -> list[Template]:
    def member(phrase):
        def make(rng):
            category = _pick(rng, list(CATEGORIES))
            answer, distractors = _category_options(rng, category)
            return phrase.format(cat=CATEGORIES[category][0], plural=category), [answer] + distractors
        return make

    def verb(phrase):
        def make(rng):
            category = _pick(rng, list(VERB_OF_CATEGORY))
            answer, distractors = _category_options(rng, category, VERB_OF_CATEGORY[category])
            return phrase.format(verb=VERB_OF_CATEGORY[category]), [answer] + distractors
        return make

    def odd_one_out(rng):
        category = _pick(rng, list(CATEGORIES))
        members = _pick(rng, CATEGORIES[category][1], 3)
        _, (odd, *_) = _category_options(rng, category)
        return "Which word does not belong with the others?", [odd] + members

    specs = [
        ("member-1", member("Which of these is {cat}?")),
        ("verb-1", verb("Which of these can you {verb}?")),
        ("member-2", member("Pick the word that names {cat}.")),
        ("odd-one-out", odd_one_out),
        ("member-3", member("One of these words is {cat}. Which one?")),
        ("verb-2", verb("Which one of these is something people {verb}?")),
        ("member-4", member("Which word in this list is {cat}?")),
    ]
    return [Template(f"category/{name}", "category", make) for name, make in specs]


def _sequences() -> list[Template]:
    def step(phrase, going_up=True):
        def make(rng):
            k = int(rng.integers(1, 6))
            start = int(rng.integers(1, 30)) if going_up else int(rng.integers(4 * k + 1, 60))
            k = k if going_up else -k
            items = [start + i * k for i in range(4)]
            answer = start + 4 * k
            return phrase.format(seq=", ".join(number_words(v) for v in items)), _number_options(rng, answer)
        return make

    def cyclic(phrase, items, offset):
        def make(rng):
            i = int(rng.integers(len(items)))
            answer = items[(i + offset) % len(items)]
            # The asked item is a poor distractor, but with four seasons there is nothing else left.
            pool = [x for x in items if x != items[i]] if len(items) > 4 else items
            return phrase.format(x=items[i]), [answer] + _others(rng, pool, answer)
        return make

    def neighbour(phrase, offset):
        def make(rng):
            n = int(rng.integers(2, 98))
            return phrase.format(n=number_words(n), m=number_words(n + 2)), _number_options(rng, n + offset)
        return make

    specs = [
        ("next-number", step("What number comes next: {seq}?")),
        ("day-after", cyclic("What day comes after {x}?", DAYS, 1)),
        ("month-after", cyclic("Which month comes after {x}?", MONTHS, 1)),
        ("number-before", neighbour("What number comes just before {n}?", -1)),
        ("count-down", step("The numbers go down: {seq}. What comes next?", going_up=False)),
        ("day-before", cyclic("Which day comes before {x}?", DAYS, -1)),
        ("season-after", cyclic("Which season comes after {x}?", SEASONS, 1)),
        ("number-between", neighbour("Which number is between {n} and {m}?", 1)),
        ("month-before", cyclic("What month comes just before {x}?", MONTHS, -1)),
    ]
    return [Template(f"sequence/{name}", "sequence", make) for name, make in specs]


def _facts() -> list[Template]:
    def lookup(phrase, table):
        def make(rng):
            key = _pick(rng, list(table))
            answer = table[key]
            return phrase.format(x=key), [answer] + _others(rng, list(table.values()), answer)
        return make

    def general(items):
        def make(rng):
            question, answer, distractors = items[int(rng.integers(len(items)))]
            return question, [answer] + list(distractors)
        return make

    # General facts are split by item (each third is its own template), the other templates by phrasing.
    specs = [
        ("legs", lookup("How many legs does a {x} have?", LEGS)),
        ("color", lookup("What color is {x}?", THING_COLORS)),
        ("general-a", general(GENERAL_FACTS[0:7])),
        ("baby-animal", lookup("What is a baby {x} called?", BABY_ANIMALS)),
        ("general-b", general(GENERAL_FACTS[7:14])),
        ("animal-sound", lookup("What sound does a {x} make?", ANIMAL_SOUNDS)),
        ("tool-for", lookup("What do you use to {x}?", TOOLS_FOR)),
        ("general-c", general(GENERAL_FACTS[14:])),
    ]
    return [Template(f"fact/{name}", "fact", make) for name, make in specs]


def _opposites() -> list[Template]:
    def make_with(phrase):
        def make(rng):
            pair = OPPOSITES[int(rng.integers(len(OPPOSITES)))]
            word, answer = pair if rng.random() < 0.5 else pair[::-1]
            pool = [w for p in OPPOSITES for w in p if w not in pair]
            return phrase.format(w=word), [answer] + _pick(rng, pool, 3)
        return make

    phrases = ["What is the opposite of {w}?", "Which word means the opposite of {w}?",
               "If something is not {w}, it is the opposite. What is the opposite of {w}?",
               "Which of these words is the opposite of {w}?"]
    return [Template(f"opposite/{i + 1}", "opposite", make_with(p)) for i, p in enumerate(phrases)]


TEMPLATES: list[Template] = [*_arithmetic(), *_comparison(), *_categories(), *_sequences(), *_facts(),
                             *_opposites()]
KINDS = sorted({t.kind for t in TEMPLATES})


def template_split(template: Template) -> str:
    """Which split a template belongs to: per kind, the last in the list → test, the one before → dev, the
    rest → train (written so that test and dev templates are of the same kinds as train ones)."""
    same_kind = [t.id for t in TEMPLATES if t.kind == template.kind]
    position = same_kind.index(template.id)
    from_end = len(same_kind) - 1 - position
    # Kinds with many templates give test two of them.
    n_test = 2 if len(same_kind) >= 9 else 1
    if from_end < n_test:
        return "test"
    if from_end == n_test:
        return "dev"
    return "train"


def templates_for(split: str) -> list[Template]:
    if split not in SPLITS:
        raise ValueError(split)
    return [t for t in TEMPLATES if template_split(t) == split]


def make_question(template: Template, rng: np.random.Generator) -> Question:
    """One question from `template`; the correct option's position is uniform over A–D."""
    question, options = template.make(rng)
    answer_text = options[0]
    order = rng.permutation(4)
    choices = [options[i] for i in order]
    return Question(template.id, template.kind, question, choices, choices.index(answer_text))
