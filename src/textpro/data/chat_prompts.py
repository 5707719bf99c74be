"""Written everyday prompts for content distillation: the text LLM answers them and TextPro-SLM learns to answer the
same words read around another clip's prosody as its LLM does (`text_distill` in the stage-2 config).

The spoken requests (`data/requests.py`) give 300 train prompts from 26 templates: an SLM distilled on them answers
those like its LLM but unseen requests no better than with its adapter switched off (results/robust-hearing.md,
session 15). These prompts widen what "content" means in training without audio: new templates, new topics. None of
their fillers is a topic of the spoken requests (of any split), so a dev or test request topic never reaches training
through this list (tests/test_chat_prompts.py).
"""

from __future__ import annotations

import numpy as np

from textpro.data.requests import render

FILLERS: dict[str, list[str]] = {
    "food": ["carrot cake", "lentil soup", "a tuna sandwich", "roast potatoes", "blueberry muffins", "a bean salad",
             "mashed potatoes", "vegetable lasagne", "a chocolate milkshake", "grilled cheese", "porridge",
             "a mushroom risotto", "fish tacos", "coleslaw", "pumpkin pie", "a peach smoothie", "a spinach quiche",
             "corn bread", "a berry crumble", "egg fried noodles", "flatbread", "a lemon tart", "baked beans",
             "a club sandwich", "hot chocolate"],
    "chore": ["clean my windows", "descale a kettle", "hang a picture frame", "wash a wool jumper",
              "unclog a sink", "defrost a freezer", "polish my shoes", "iron a shirt", "paint a small room",
              "water a lawn properly", "clean a laptop keyboard", "tidy a messy desk", "wash a car by hand",
              "store winter clothes", "get rid of fruit flies", "fix a dripping tap", "repot a cactus",
              "clean an oven", "pick a ripe melon", "keep bread fresh longer", "set up a bird feeder",
              "label spice jars", "make a shopping list", "choose a good umbrella", "pack a lunch box"],
    "skill": ["learn to swim as an adult", "get better at drawing", "speak more clearly", "type faster",
              "remember names", "start running", "learn to knit", "take better photos with my phone",
              "write a short story", "learn a few words of Spanish", "play the ukulele", "meditate for five minutes",
              "read a map", "ride a skateboard", "cook rice without burning it", "keep a diary",
              "learn to dance", "do a handstand", "grow herbs on a windowsill", "solve a crossword",
              "give a good toast at a wedding", "make a packing checklist", "stretch after exercise",
              "improve my handwriting", "be more patient"],
    "nature": ["thunder follows lightning", "the grass is green", "snails carry shells", "stars twinkle",
               "the wind blows", "rivers flow to the sea", "deserts get cold at night", "frogs croak",
               "pine cones open in dry weather", "mountain air is thin", "fog forms in the morning",
               "mushrooms grow after rain", "giraffes have long necks", "zebras have stripes", "moths fly to lamps",
               "hail falls in summer", "the wind is stronger by the sea", "puddles dry up", "grapes grow on vines",
               "salmon swim upstream", "squirrels bury nuts", "camels have humps", "ants walk in lines",
               "lakes freeze from the top", "sunflowers turn to the sun"],
    "idea": ["electricity", "a solar panel", "a thermometer", "democracy", "a library card", "a compass",
             "an airport", "a museum", "a calendar", "a map scale", "a microwave oven", "a telescope", "a password",
             "a recipe", "an orchestra", "a lighthouse keeper", "a credit score", "a time zone", "a wind turbine",
             "a barcode", "a bank account", "an email address", "a weather forecast", "a fossil", "a passport"],
    "animal": ["foxes", "koalas", "parrots", "sharks", "tortoises", "hedgehogs", "flamingos", "wolves", "otters",
               "crows", "jellyfish", "kangaroos", "seahorses", "bats", "pandas", "ladybirds", "rabbits",
               "whales", "peacocks", "hamsters", "crocodiles", "swans", "beavers", "llamas", "goldfish"],
    "place": ["a quiet library", "a busy market", "a small island", "an old castle", "a snowy village",
              "a rainforest", "a train station at night", "a lighthouse", "a bakery in the morning",
              "a city rooftop", "a country farm", "a mountain cabin", "a botanical garden", "a harbour",
              "a school playground", "a night sky full of stars", "a sunflower field", "a cosy kitchen",
              "an empty beach in winter", "a jazz club", "a bookshop", "a river in spring", "a zoo",
              "a music festival", "a science fair"],
    "occasion": ["a rainy Saturday", "a friend's birthday", "a long car ride", "a day off school",
                 "a housewarming party", "a slow Monday morning", "a sunny lunch break", "a hiking weekend",
                 "the first day at a new job", "a visit from my grandparents", "a power cut in the evening",
                 "a walk in the forest", "a day with a cold", "a weekend in a small town", "a garden party",
                 "a quiet New Year's Eve", "a school holiday", "a bus journey", "an afternoon with a toddler",
                 "a chilly autumn evening"],
    "mood": ["I overslept this morning", "I can't decide what to cook tonight", "I broke my favourite mug",
             "I have too many emails", "I want to get fitter", "I have a headache after work",
             "I am moving to a new city", "I forgot a friend's birthday", "I feel nervous before flying",
             "I want to read more books", "I am starting a new job next week", "My plants keep dying",
             "I can't sleep when it is hot", "I have a long exam tomorrow", "I want to eat more vegetables",
             "I got lost in a new town", "My neighbour plays loud music", "I want to save for a holiday",
             "I feel shy at parties", "I have nothing to wear tonight"],
    "choice": [("a pen", "a pencil"), ("sunrise", "sunset"), ("board games", "video games"),
               ("a garden", "a balcony"), ("jam", "honey"), ("a cardigan", "a hoodie"), ("ballet", "football"),
               ("the radio", "podcasts"), ("a hammock", "a sofa"), ("lemons", "limes"), ("stairs", "lifts"),
               ("cooking", "eating out"), ("letters", "text messages"), ("boats", "buses"),
               ("a map", "a sat nav"), ("soup", "salad"), ("a dog walk", "a gym session"), ("maths", "art"),
               ("a cabin", "a tent"), ("socks", "slippers")],
    "short": ["Make up a puzzle about a kettle.", "Write two lines about a sleepy cat.",
              "Give me three words that rhyme with light.", "What is a nice thing to say to a new neighbour?",
              "Suggest a name for a friendly robot.", "Tell me a funny fact about puffins.",
              "Describe the colour blue to someone who cannot see.", "What is a good question to start a chat?",
              "Give me a quick brain teaser.", "Tell me a tiny story about a lost balloon.",
              "What is a good way to start the morning?", "Say something encouraging about Mondays.",
              "Invent a new holiday and describe it.", "What could I draw today?",
              "Give me a short motivational sentence.", "What is a kind thing to do for a stranger?",
              "Write a four-line poem about autumn.", "Name three things that make a room cosy.",
              "What is a fun game for a long walk?", "Tell me about a made-up planet.",
              "Suggest a title for a mystery novel.", "What would a cloud say if it could talk?",
              "Give me a silly excuse for being late.", "Describe a perfect rainy day.",
              "What is an easy snack for a picnic?"],
}

# (template, filler list); {a}/{b} take a pair. Templates differ from the spoken requests' (data/requests.py).
TEMPLATES: list[tuple[str, str]] = [
    ("How can I make {x} at home?", "food"), ("Give me an easy recipe for {x}.", "food"),
    ("What goes well with {x}?", "food"), ("Is {x} healthy?", "food"),
    ("What is a quick way to {x}?", "chore"), ("Can you help me {x}?", "chore"),
    ("What do I need to {x}?", "chore"), ("Give me three steps to {x}.", "chore"),
    ("How long does it take to {x}?", "skill"), ("Where should I start if I want to {x}?", "skill"),
    ("What are common mistakes when people try to {x}?", "skill"), ("Can you motivate me to {x}?", "skill"),
    ("Why is it that {x}?", "nature"), ("Could you tell me why {x}?", "nature"),
    ("Explain in two sentences why {x}.", "nature"),
    ("What is {x}?", "idea"), ("How would you explain {x} to a child?", "idea"),
    ("Why do people need {x}?", "idea"), ("What was life like before {x}?", "idea"),
    ("What do {x} eat?", "animal"), ("Where do {x} live?", "animal"), ("Share a surprising fact about {x}.", "animal"),
    ("Why are {x} interesting?", "animal"), ("Write a short sentence about {x}.", "animal"),
    ("Describe {x}.", "place"), ("What sounds would I hear in {x}?", "place"),
    ("Write a few lines set in {x}.", "place"), ("What would you do in {x}?", "place"),
    ("Any plans you would suggest for {x}?", "occasion"), ("What should I bring for {x}?", "occasion"),
    ("How can I make the most of {x}?", "occasion"),
    ("{x} Any tips?", "mood"), ("{x} How can I feel better?", "mood"), ("{x} What would you suggest?", "mood"),
    ("Do you prefer {a} or {b}?", "choice"), ("Compare {a} with {b}.", "choice"),
    ("What do {a} and {b} have in common?", "choice"),
    ("{x}", "short"),
]


def chat_prompts(limit: int | None = None, seed: int = 0) -> list[str]:
    """Every template × filler prompt, distinct, in a seeded order; the first `limit` of them."""
    prompts = list(dict.fromkeys(render(t, f) for t, name in TEMPLATES for f in FILLERS[name]))
    order = np.random.default_rng(seed).permutation(len(prompts))
    return [prompts[i] for i in order][:limit]
