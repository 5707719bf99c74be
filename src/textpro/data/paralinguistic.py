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

from textpro.data.synth import ACCENTS, VARIANT_GENDER

LABELS: dict[str, list[str]] = {
    "gender": ["male", "female"],
    "accent": list(ACCENTS),
    "pitch": ["low", "mid", "high"],
    "rate": ["slow", "normal", "fast"],
    "style": ["neutral", "happy", "sad", "angry"],
}
TASKS = list(LABELS)

# Instruction phrasings; each names the label set so that a text LLM knows what to answer.
PROMPTS: dict[str, list[str]] = {
    "gender": ["What is the speaker's gender? Answer male or female.",
               "Is the speaker male or female?",
               "Listen to the voice. Is it a male or a female speaker?"],
    "accent": ["Which accent does the speaker have: american, british, scottish or caribbean?",
               "What is the speaker's accent? Answer american, british, scottish or caribbean.",
               "Where is the speaker's accent from: american, british, scottish or caribbean?"],
    "pitch": ["Is the speaker's voice low, mid or high in pitch?",
              "How high is the speaker's pitch? Answer low, mid or high.",
              "Describe the pitch of the voice as low, mid or high."],
    "rate": ["Is the speaker talking slow, normal or fast?",
             "How fast does the speaker speak? Answer slow, normal or fast.",
             "What is the speaking rate: slow, normal or fast?"],
    "style": ["What emotion does the speaker's voice express: neutral, happy, sad or angry?",
              "How does the speaker sound? Answer neutral, happy, sad or angry.",
              "Which speaking style is this: neutral, happy, sad or angry?"],
}

PITCH_BANDS_HZ = {"low": (80.0, 110.0), "mid": (135.0, 175.0), "high": (220.0, 290.0)}
RATE_WPM = {"slow": (95, 120), "normal": (160, 185), "fast": (260, 300)}
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
