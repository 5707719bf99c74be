import pytest

from textpro.audio import load_audio


@pytest.mark.slow
def test_spoken_question_gets_answered_by_the_real_models():
    """Real Whisper tiny.en + real SmolLM2-135M with an untrained projector: the text path must be intact."""
    from textpro.data.synth import synthesize_piper
    from textpro.pipeline import TextPro

    pro = TextPro.untrained()
    question = load_audio(*synthesize_piper("What is the capital of France?", noise=False))
    pieces = []
    result = pro.chat(question, on_text=pieces.append, max_new_tokens=16)
    assert "capital of france" in result.transcript.text.lower()
    assert len(result.transcript.prosody) == len(result.transcript.token_ids)
    assert "Paris" in result.answer and "".join(pieces).strip() == result.answer

    batch = pro.chat_batch([(question, None), (question, "Answer in one word.")], max_new_tokens=16)
    assert batch[0].answer == result.answer
    assert batch[0].transcript.text == batch[1].transcript.text
