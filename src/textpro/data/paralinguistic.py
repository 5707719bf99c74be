"""Paralinguistic tasks of the mini world: label sets, how each label is spoken, and the voices of each split.

Every label is produced by synthesis parameters, so it is known by construction:
- gender: the voice variant's gender (espeak-ng male/female timbres, each with its own base pitch);
- accent: the espeak-ng English variant (ACCENTS in `synth`);
- pitch level: the clip's median F0 in a fixed band (low 80–110 Hz, mid 135–175 Hz, high 220–290 Hz), for voices
  of both genders: espeak's pitch parameter gets close, pyworld F0 scaling does the rest where espeak cannot reach;
- speaking rate: espeak words per minute (slow 95–120, normal 160–185, fast 260–300); some variants speak
  ~15% faster than others at the same setting, so the bands are far apart;
- style: an emotion-like speaking style **acted by parameters** (pitch, pitch range, rate, loudness, emphasis),
  not recorded emotion: neutral, happy (high, wide range, fast, loud), sad (low, monotone, slow, soft),
  angry (very loud, fast, tense and flat, two stressed words). espeak's pitch range parameter gives fewer
  semitones at high pitch, so neutral is kept narrow enough for happy to stand out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from textpro.data.synth import ACCENTS, VARIANT_GENDER

LABELS: dict[str, list[str]] = {
    "gender": ["male", "female"],
    "accent": list(ACCENTS),
    "pitch": ["low", "mid", "high"],
    "rate": ["slow", "normal", "fast"],
    "style": ["neutral", "happy", "sad", "angry"],
}
TASKS = list(LABELS)

# ------------------------------------------------------------------------------------------ phrasings
# Each task is asked in four forms: direct (names the label set), open ("How would you describe the speaker's
# pitch?"), yes/no about one label ("Is this a woman speaking?") and two-way about two labels ("Is the speaker
# talking fast or slowly?", asked only of clips whose label is one of the two). The train, dev and test phrasings
# are disjoint; dev_unseen uses the dev set and test_unseen (and test_robust) the test set. The training answer
# (`target`) is the label word, or "<Label>, so yes." / "<Label>, so no." for a yes/no form (label first: the model
# names what it heard as in every other form, then answers the question; "No, <label>." made the yes/no the first
# decision, and yes/no was the weakest form); `reference` stays the label.
FORMS = ("direct", "open", "yes_no", "two_way")


@dataclass(frozen=True)
class Phrasing:
    text: str
    form: str  # one of FORMS
    asks: tuple[str, ...] = ()  # yes_no: the label asked about; two_way: the two labels offered

    def accepts(self, label: str) -> bool:
        """Whether this phrasing may be asked of a clip with `label` (two-way forms only of their two labels)."""
        return self.form != "two_way" or label in self.asks

    def target(self, label: str) -> str:
        """The training answer for a clip whose label is `label`."""
        if self.form == "yes_no":  # the label first: the same readout as every other form, then the yes or no
            return f"{label.capitalize()}, so {'yes' if self.asks[0] == label else 'no'}."
        return label


def read_phrasings(path: Path) -> dict[str, dict[str, list[Phrasing]]]:
    """A phrasings file (phrasings.yaml's layout): per task and split, the phrasings of each form in FORMS order, as
    listed (the seeded draw indexes into these lists, so their order is part of every generated dataset)."""
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {task: {split: [_phrasing(row, form) for form in FORMS for row in by_form.get(form, ())]
                   for split, by_form in splits.items()}
            for task, splits in table.items()}


def _phrasing(row, form: str) -> Phrasing:
    """One listed phrasing: a direct or open one is its text, a yes/no or two-way one [text, label, …]."""
    return Phrasing(row, form) if isinstance(row, str) else Phrasing(row[0], form, tuple(row[1:]))


# Data, not code: 169 questions in one table (phrasings.yaml, beside this file) instead of 169 constructor calls.
PHRASINGS: dict[str, dict[str, list[Phrasing]]] = read_phrasings(Path(__file__).with_name("phrasings.yaml"))

# Which phrasing set each split uses (the unseen splits and test_robust reuse dev's or test's).
PHRASING_SPLIT = {"train": "train", "dev": "dev", "test": "test", "test_robust": "test", "dev_unseen": "dev",
                  "test_unseen": "test"}
# Share of each form among a split's questions (renormalised over the forms a clip's label allows).
FORM_WEIGHTS = {"direct": 0.3, "open": 0.25, "yes_no": 0.3, "two_way": 0.15}


def phrasings_for(task: str, split: str) -> list[Phrasing]:
    """The phrasings of `task` used in `split` (disjoint between train, dev and test)."""
    return list(PHRASINGS[task][PHRASING_SPLIT[split]])


def choose_phrasing(task: str, split: str, label: str, rng, own_share: float = 0.5) -> Phrasing:
    """Draw a phrasing of `task` in `split` for a clip with `label` (see draw_phrasing)."""
    return draw_phrasing(phrasings_for(task, split), label, rng, own_share)


def draw_phrasing(phrasings: list[Phrasing], label: str, rng, own_share: float = 0.5) -> Phrasing:
    """Draw one of `phrasings` for a clip with `label`: a form by FORM_WEIGHTS, then a phrasing of it; a yes/no
    question asks about the clip's own label `own_share` of the time (0.5: "Yes" and "No" equally common)."""
    pool = [p for p in phrasings if p.accepts(label)]
    forms = [f for f in FORMS if any(p.form == f for p in pool)]
    weights = [FORM_WEIGHTS[f] for f in forms]
    form = forms[int(rng.choice(len(forms), p=[w / sum(weights) for w in weights]))]
    pool = [p for p in pool if p.form == form]
    if form == "yes_no":
        same = [p for p in pool if p.asks[0] == label]
        other = [p for p in pool if p.asks[0] != label]
        pool = same if same and (not other or rng.random() < own_share) else other
    return pool[int(rng.integers(len(pool)))]


# Direct train phrasings of each task (each names the label set): the default instructions of code that asks a
# task without a record of its own (slm.tasks, the demo).
PROMPTS: dict[str, list[str]] = {task: [p.text for p in sets["train"] if p.form == "direct"]
                                 for task, sets in PHRASINGS.items()}

# Words an answer may use for each label (the label itself first); the shared label matcher (data/labels.py)
# maps them back to the label.
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "gender": {"male": ["male", "man", "masculine", "a man", "men", "boy", "gentleman"],
               "female": ["female", "woman", "feminine", "a woman", "women", "girl", "lady"]},
    "accent": {"american": ["american", "us", "united states", "north american", "usa"],
               "british": ["british", "english", "england", "uk", "received pronunciation"],
               "scottish": ["scottish", "scotland", "scots"],
               "caribbean": ["caribbean", "jamaican", "west indian", "jamaica"]},
    "pitch": {"low": ["low", "deep", "low-pitched", "low pitched", "lower"],
              "mid": ["mid", "medium", "middle", "moderate", "average", "mid-range", "medium-pitched"],
              "high": ["high", "high-pitched", "high pitched", "higher", "squeaky", "shrill"]},
    "rate": {"slow": ["slow", "slowly", "slower", "unhurried"],
             "normal": ["normal", "moderate", "average", "ordinary", "normal pace", "medium"],
             "fast": ["fast", "quickly", "quick", "rapidly", "rapid", "faster", "speedy"]},
    "style": {"neutral": ["neutral", "calm", "flat", "plain", "unemotional"],
              "happy": ["happy", "cheerful", "joyful", "glad", "excited"],
              "sad": ["sad", "unhappy", "sorrowful", "gloomy", "down"],
              "angry": ["angry", "annoyed", "furious", "mad", "upset"]},
}

PITCH_BANDS_HZ = {"low": (80.0, 110.0), "mid": (135.0, 175.0), "high": (220.0, 290.0)}
RATE_WPM = {"slow": (95, 120), "normal": (160, 185), "fast": (260, 300)}
# The same bands as measured words per second (`acoustics.utterance_acoustics`, speech span only) on espeak clips
# at those settings (10th–90th percentiles of 16 clips per end of each band); engines without a words-per-minute
# control (piper, festival, flite) are stretched to a target drawn inside these.
RATE_WPS = {"slow": (2.0, 2.7), "normal": (3.4, 4.2), "fast": (5.3, 6.6)}


def pitch_band(f0_median: float) -> str:
    """The pitch label of a measured median F0: the band it lies in, else the nearest band (log distance)."""
    import math

    def distance(band):
        low, high = PITCH_BANDS_HZ[band]
        return 0.0 if low <= f0_median <= high else min(abs(math.log(f0_median / low)),
                                                       abs(math.log(f0_median / high)))

    return min(PITCH_BANDS_HZ, key=distance)


NEUTRAL = {"pitch": (42, 58), "pitch_range": (40, 60), "rate": (155, 185), "volume": (90, 110)}


@dataclass(frozen=True)
class Style:
    """Ranges (low, high) of espeak parameters that act one style; `emphasized` words get SSML emphasis."""

    pitch: tuple[int, int]
    pitch_range: tuple[int, int]
    rate: tuple[int, int]
    volume: tuple[int, int]
    emphasized: int = 0


STYLES: dict[str, Style] = {
    "neutral": Style(pitch=(45, 55), pitch_range=(35, 45), rate=(160, 180), volume=(90, 105)),
    "happy": Style(pitch=(72, 85), pitch_range=(95, 99), rate=(210, 235), volume=(125, 140)),
    "sad": Style(pitch=(15, 28), pitch_range=(3, 12), rate=(105, 125), volume=(40, 55)),
    "angry": Style(pitch=(50, 62), pitch_range=(20, 32), rate=(200, 225), volume=(185, 200), emphasized=2),
}

# Voices (espeak variants) per split, disjoint: a test voice is never heard in training. Variants that are near
# copies of one another (linda/belinda, m3/michel) stay in the same split. piper's `joe` is a train voice.
VOICE_SPLITS: dict[str, list[str]] = {
    "train": ["m1", "m2", "m4", "m6", "m8", "Andy", "Denis", "Hugo", "sandro", "victor", "antonio",
              "f1", "f2", "f4", "Andrea", "Annie", "linda", "belinda", "steph", "aunty"],
    "dev": ["m5", "miguel", "f5", "Alicia"],
    "test": ["m3", "michel", "m7", "Diogo", "travis", "f3", "anika", "grandma"],
}
PIPER_SPLIT = "train"
assert all(v in VARIANT_GENDER for voices in VOICE_SPLITS.values() for v in voices)

# Neutral sentences for the paralinguistic clips (content says nothing about the label); split by position.
SENTENCES = [
    "The train leaves the station at half past nine.",
    "Please put the books back on the top shelf.",
    "The weather report said it would be cloudy tomorrow.",
    "We painted the kitchen walls a pale shade of blue.",
    "The meeting has been moved to the second floor.",
    "She bought two loaves of bread and a bag of rice.",
    "The old bridge was repaired during the summer.",
    "There is a small park at the end of this street.",
    "He usually walks to work when the roads are quiet.",
    "The library closes early on Saturday afternoons.",
    "They planted tomatoes and beans in the garden.",
    "My cousin is moving to a new apartment next month.",
    "The package should arrive before the end of the week.",
    "A cup of tea is waiting for you on the table.",
    "The museum has a new exhibition about old maps.",
    "Our neighbours have a large brown dog called Max.",
    "The bus was a few minutes late this morning.",
    "I left my umbrella at the office yesterday.",
    "The students handed in their reports on Monday.",
    "The river runs along the edge of the village.",
    "We need to buy more paper for the printer.",
    "The shop on the corner sells fresh vegetables.",
    "He wrote the address on the back of an envelope.",
    "The film starts at seven and ends at nine.",
    "A new school is being built near the hospital.",
    "The lamp in the hallway needs a new bulb.",
    "She keeps her keys in the pocket of her coat.",
    "The farmer checked the fences after the storm.",
    "Dinner will be ready in about twenty minutes.",
    "The children drew pictures of boats and birds.",
    "There are five chairs around the wooden table.",
    "The clock on the wall is a little bit slow.",
    "We took the early ferry across to the island.",
    "The windows were cleaned on Thursday morning.",
    "My brother fixed the wheel on his bicycle.",
    "The recipe calls for two eggs and some flour.",
    "The road to the airport was busy this evening.",
    "He read the newspaper while waiting for the bus.",
    "The garden gate is painted dark green.",
    "Our flight lands a little after midnight.",
    "The baker opens his shop at six every day.",
    "The photographs are kept in a box under the bed.",
    "She is learning to play the piano this year.",
    "The hotel room had a view of the harbour.",
    "They walked along the beach after lunch.",
    "The car park behind the theatre is free on Sundays.",
    "The teacher wrote the date on the board.",
    "A letter came for you in the afternoon post.",
    "The shelves in the garage are full of tools.",
    "We will meet outside the cinema at eight.",
]


def sentences_for(split: str) -> list[str]:
    """Train gets 70% of the sentence bank, dev and test 15% each; no sentence is in two splits."""
    n = len(SENTENCES)
    bounds = {"train": (0, int(0.7 * n)), "dev": (int(0.7 * n), int(0.85 * n)), "test": (int(0.85 * n), n)}
    low, high = bounds[split]
    return SENTENCES[low:high]
