"""TextLLMResponder with the real SmolLM2-135M-Instruct: chat template, greedy, left-padded batches."""

import pytest

from textpro.eval.bench import items_from_records
from textpro.eval.harness import evaluate_items
from textpro.eval.responders import TextLLMResponder, TextResponder

QUESTIONS = [
    ("Which animal says meow?\nA. Cat\nB. Cow\nC. Dog\nD. Duck\nAnswer with the letter of the correct option.", "A"),
    ("What color is grass?\nA. Blue\nB. Green\nC. Red\nD. Black\nAnswer with the letter of the correct option.", "B"),
    ("Sky?\nA. Blue\nB. Green\nC. Red\nD. Black\nAnswer with the letter.", "A"),  # the shortest: most left padding
]


@pytest.fixture(scope="module")
def smollm():
    return TextLLMResponder.from_pretrained("smollm2-135m-instruct", batch_size=3, max_new_tokens=8)


@pytest.mark.slow
def test_batched_answers_match_single_answers(smollm):
    assert isinstance(smollm, TextResponder) and smollm.name == "smollm2-135m-instruct"
    batched = smollm.answer_text([q for q, _ in QUESTIONS])
    assert len(batched) == 3 and all(isinstance(a, str) and a for a in batched)
    # Left padding must not change what the model says (greedy decoding is deterministic).
    assert smollm.answer_text([QUESTIONS[2][0]]) == [batched[2]]

    items = items_from_records([{"id": str(i), "prompt": q, "reference": r, "task": "mcq_easy"}
                                for i, (q, r) in enumerate(QUESTIONS)])

    class Replay:  # score the answers already generated, without generating again
        name, batch_size = smollm.name, 3

        def answer_text(self, prompts):
            return [batched[[q for q, _ in QUESTIONS].index(p)] for p in prompts]

    result = evaluate_items(items, Replay(), None, progress=False)
    (task,) = result.semantic
    # A 135M model is not reliable on these; the test checks that its letter answers are extracted.
    assert task.text.failure_pct <= 100 / 3


@pytest.mark.slow
def test_cascade_passes_the_real_transcript(whisper_tiny_en_dir):
    """The cascade baseline with real Whisper tiny.en: the text side receives transcript + instruction."""
    from pathlib import Path

    from textpro.eval.responders import AudioQuery, CascadeResponder
    from textpro.whisperpro import Transcriber

    asr = Transcriber.from_pretrained(whisper_tiny_en_dir)

    class Echo:
        name, batch_size = "echo", 2

        def answer_text(self, prompts):
            return list(prompts)

    cascade = CascadeResponder(lambda path: asr.transcribe(path).text, Echo())
    clip = Path(__file__).parent.parent / "examples" / "hello.wav"
    plain, asked = cascade.answer_audio([AudioQuery(clip), AudioQuery(clip, "What is the speaker's gender?")])
    assert "stole my money" in plain.lower()
    assert asked.startswith(plain) and asked.endswith("\nWhat is the speaker's gender?")
    assert cascade.name == "cascade+echo"
