"""Everyday spoken requests (task `request`): how-to, why, explain, recommend and short chat, from templates × fillers.

They have no reference answer: the teacher LLM answers the transcript (distillation keeps the speech LLM talking like
its LLM), and evaluation compares the speech LLM's answer with the teacher's by ROUGE-L. Each filler list is
shuffled once with a fixed seed and cut into the splits, so a topic (and every request made from it) belongs to
one split only: train, dev, test, dev_unseen and test_unseen share no request and no topic.
"""

from __future__ import annotations

import numpy as np

REQUEST_SPLITS = ("train", "dev", "test", "dev_unseen", "test_unseen")
# Share of each filler list per split, in REQUEST_SPLITS order.
FRACTIONS = (0.6, 0.05, 0.05, 0.1, 0.2)

FILLERS: dict[str, list[str]] = {
    "dish": ["pancakes", "scrambled eggs", "tomato soup", "banana bread", "a fruit salad", "fried rice",
             "a vegetable curry", "lemonade", "guacamole", "french toast", "a simple pasta sauce", "oatmeal cookies",
             "a cheese omelette", "hummus", "potato salad", "apple crumble", "a green smoothie", "garlic bread",
             "chicken noodle soup", "pizza dough"],
    "task": ["tie a tie", "boil an egg", "change a flat tyre", "plant tomatoes", "fold a paper airplane",
             "clean a cast iron pan", "sew on a button", "wrap a present", "start a vegetable garden",
             "remove a coffee stain", "make my bed quickly", "keep my houseplants alive", "learn to juggle",
             "write a thank you note", "pack a suitcase", "back up my phone", "sharpen a kitchen knife",
             "train my dog to sit", "fall asleep faster", "save money on groceries", "study for an exam",
             "prepare for a job interview", "memorise a short speech", "organise my closet", "fix a squeaky door"],
    "why": ["the sky is blue", "leaves change colour in autumn", "we need to sleep", "the sea is salty",
            "ice floats on water", "we have seasons", "cats purr", "bread goes stale", "onions make us cry",
            "the moon changes shape", "we get goosebumps", "planes leave white trails in the sky",
            "metal feels colder than wood", "we yawn", "rainbows appear after rain", "bees make honey",
            "our voices sound different on recordings", "the sun sets in the west", "popcorn pops",
            "birds fly south for the winter", "we have fingerprints", "the ocean has tides"],
    "concept": ["photosynthesis", "gravity", "the water cycle", "how vaccines work", "compound interest",
                "what a black hole is", "how a rainbow forms", "what inflation means", "how the internet works",
                "what DNA does", "how a battery stores energy", "what an eclipse is", "how magnets work",
                "what a budget is", "how recycling works", "what climate means", "how a bicycle stays upright",
                "how the heart pumps blood", "what an echo is", "how clouds form", "what a volcano is",
                "how a refrigerator keeps food cold"],
    "topic": ["octopuses", "the ocean", "honey bees", "the moon", "elephants", "penguins", "volcanoes",
              "the human brain", "trees", "owls", "the desert", "snow", "dolphins", "ancient Egypt", "coffee",
              "chess", "the piano", "lighthouses", "butterflies", "tea"],
    "plan": ["a rainy afternoon", "a picnic in the park", "a birthday party for a child", "a weekend with no plans",
             "a long train journey", "a quiet evening at home", "a first visit to a new city", "a family dinner",
             "a morning walk", "a day at the beach", "a short camping trip", "a movie night with friends",
             "a lazy Sunday", "a snowy day", "a trip to the museum"],
    "feeling": ["I feel tired all the time", "I can't stop procrastinating", "I am nervous about a presentation",
                "I feel bored at home", "I am stressed about work", "I find it hard to make new friends",
                "I keep forgetting things", "I can't concentrate when I study", "I feel a bit lonely today",
                "I am worried about an exam", "I have trouble waking up early", "I spend too much time on my phone",
                "I am bored of my usual meals", "I feel unmotivated to exercise"],
    "pair": [("a cat", "a dog"), ("tea", "coffee"), ("a bicycle", "a car"), ("a book", "a film"),
             ("summer", "winter"), ("the city", "the countryside"), ("mountains", "the beach"),
             ("a laptop", "a tablet"), ("running", "swimming"), ("baking", "frying"), ("a shower", "a bath"),
             ("trains", "planes"), ("paper books", "e-books"), ("walking", "cycling"), ("rice", "pasta"),
             ("apples", "oranges")],
    "chat": ["Tell me a short joke.", "What is your favourite season, and why?", "Can you tell me a riddle?",
             "Say something nice to cheer me up.", "What would be a fun hobby to start?",
             "Can you tell me a short story about a brave mouse?", "What is a good name for a goldfish?",
             "Give me an interesting question to ask at dinner.", "What should I read next?",
             "Can you recommend a game to play with friends?", "What is a fun fact I probably don't know?",
             "Tell me something that will make me smile.", "What is the best way to spend a day off?",
             "Can you suggest a good name for a bakery?", "Describe your perfect breakfast.",
             "What would you take to a desert island?", "Give me a tongue twister to practise.",
             "What is a good habit to start this week?", "Tell me a short poem about rain.",
             "What makes a good friend?"],
}

# (family, template, filler list). A template with {a} and {b} takes a pair.
TEMPLATES: list[tuple[str, str, str]] = [
    ("how_to", "Can you give me a simple recipe for {x}?", "dish"),
    ("how_to", "How do I make {x}?", "dish"),
    ("how_to", "What do I need to make {x} at home?", "dish"),
    ("how_to", "How do I {x}?", "task"),
    ("how_to", "What is the best way to {x}?", "task"),
    ("how_to", "Can you give me some tips to {x}?", "task"),
    ("how_to", "Explain step by step how to {x}.", "task"),
    ("how_to", "Is there an easy way to {x}?", "task"),
    ("why", "Why {x}?", "why"),
    ("why", "Can you explain why {x}?", "why"),
    ("why", "I have always wondered why {x}. Do you know?", "why"),
    ("explain", "Can you explain {x} in simple words?", "concept"),
    ("explain", "Explain {x} to a ten year old.", "concept"),
    ("explain", "Tell me briefly about {x}.", "concept"),
    ("explain", "Tell me a fun fact about {x}.", "topic"),
    ("explain", "What are three interesting things about {x}?", "topic"),
    ("explain", "Can you describe {x} in a few sentences?", "topic"),
    ("explain", "What is the most surprising thing about {x}?", "topic"),
    ("recommend", "What can I do on {x}?", "plan"),
    ("recommend", "Give me some ideas for {x}.", "plan"),
    ("recommend", "How should I plan {x}?", "plan"),
    ("chat", "{x} What should I do?", "feeling"),
    ("chat", "{x} Do you have any advice?", "feeling"),
    ("compare", "Which is better, {a} or {b}?", "pair"),
    ("compare", "What are the differences between {a} and {b}?", "pair"),
    ("chat", "{x}", "chat"),
]


def _split_of_fillers(name: str) -> dict[str, list]:
    items = list(FILLERS[name])
    order = np.random.default_rng([7, len(name), sum(map(ord, name))]).permutation(len(items))
    items = [items[i] for i in order]
    bounds = np.round(np.cumsum((0.0, *FRACTIONS)) * len(items)).astype(int)
    return {split: items[bounds[k]:bounds[k + 1]] for k, split in enumerate(REQUEST_SPLITS)}


def render(template: str, filler) -> str:
    """A template with its filler: {x} a topic (first letter capitalised), {a}/{b} a pair."""
    if isinstance(filler, tuple):
        return template.format(a=filler[0], b=filler[1])
    text = template.format(x=filler)
    return text[0].upper() + text[1:]


def requests_for(split: str) -> list[tuple[str, str]]:
    """(family, request text) of a split, in a fixed order; no text or topic is in two splits."""
    split = "test" if split == "test_robust" else split
    if split not in REQUEST_SPLITS:
        raise ValueError(f"no requests for split {split!r}")
    out = []
    for family, template, fillers in TEMPLATES:
        for filler in _split_of_fillers(fillers)[split]:
            out.append((family, render(template, filler)))
    return out
