"""Small benchmark fixtures for the eval tests: a mini-world-like bench directory with real WAV files."""

from __future__ import annotations

import json
from pathlib import Path

import soundfile as sf

from tests.conftest import tone

MCQ_ITEMS = [
    # (task, prompt, reference)
    ("mcq_facts", "What color is the sky on a clear day?\nA. Green\nB. Blue\nC. Red\nD. Black", "B"),
    ("mcq_facts", "Which animal says meow?\nA. Cat\nB. Cow\nC. Dog\nD. Duck", "A"),
    ("mcq_facts", "What do bees make?\nA. Milk\nB. Silk\nC. Honey\nD. Wool", "C"),
    ("mcq_facts", "Which season is the coldest?\nA. Summer\nB. Spring\nC. Autumn\nD. Winter", "D"),
    ("mcq_arithmetic", "What is two plus two?\nA. Three\nB. Five\nC. Six\nD. Four", "D"),
    ("mcq_arithmetic", "What is ten minus one?\nA. Nine\nB. Eight\nC. Eleven\nD. Seven", "A"),
]
GENDER_ITEMS = [("female", 220.0), ("male", 110.0), ("female", 230.0), ("male", 100.0)]


def write_bench(root: Path, split: str = "test") -> Path:
    """A bench directory: <split>.jsonl with MCQ and gender records, audio under audio/."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "audio").mkdir(exist_ok=True)
    records = []
    for index, (task, prompt, reference) in enumerate(MCQ_ITEMS):
        path = f"audio/q{index}.wav"
        sf.write(root / path, tone(0.5, freq=200 + 10 * index), 16_000)
        records.append({"id": f"q{index}", "audio": path, "prompt": prompt, "reference": reference, "task": task,
                        "voice": "en-us", "rate": 1.0})
    for index, (label, freq) in enumerate(GENDER_ITEMS):
        path = f"audio/g{index}.wav"
        sf.write(root / path, tone(0.5, freq=freq), 16_000)
        records.append({"id": f"g{index}", "audio": path, "prompt": "What is the speaker's gender?",
                        "instruction": "What is the speaker's gender?", "reference": label, "task": "gender",
                        "f0": freq})
    with (root / f"{split}.jsonl").open("w") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    return root
