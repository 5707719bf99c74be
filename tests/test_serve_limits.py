"""Bounded inputs: what cannot fit is refused before the queue, in OpenAI's shape, and costs nothing."""

from __future__ import annotations

import time

import pytest

from tests.serve_support import audio_message, b64, spoken, untrained_served
from tests.test_serve import assert_openai_error, chat, make_client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    with make_client(max_prompt_tokens=512) as client:
        yield client


def test_a_400000_character_instruction_is_refused_at_once_and_the_server_stays_fast(client):
    started = time.monotonic()
    idle = chat(client)
    idle_seconds = time.monotonic() - started
    assert idle.status_code == 200

    started = time.monotonic()
    huge = chat(client, audio_message(b64(spoken()), text="Why? " * 80_000))  # 400,000 characters
    assert time.monotonic() - started < 1.0
    assert_openai_error(huge, 400, "context_length_exceeded", "messages[0].content")
    assert huge.json()["error"]["type"] == "invalid_request_error"
    assert "400000 characters" in huge.json()["error"]["message"]

    started = time.monotonic()
    after = chat(client)
    assert after.status_code == 200, after.text
    # the refused request left nothing behind it: the next one is as fast as on the idle server (loose: shared cores)
    assert time.monotonic() - started < 2 * idle_seconds + 2
    health = client.get("/health").json()
    assert health["waiting"] == 0 and health["busy"] is False


def test_prompt_tokens_are_counted_against_the_cap_before_the_queue(client):
    batches = client.get("/health").json()["batching"]["batches_run"]
    long_text = "Please answer in one short sentence. " * 100  # 3,700 characters: under the character cap
    response = chat(client, audio_message(b64(spoken()), text=long_text))
    assert_openai_error(response, 400, "context_length_exceeded", "messages")
    assert "at most 512" in response.json()["error"]["message"]
    streamed = chat(client, audio_message(b64(spoken()), text=long_text), stream=True)
    assert_openai_error(streamed, 400, "context_length_exceeded")  # a status, not a 200 stream with an error in it
    assert client.get("/health").json()["batching"]["batches_run"] == batches  # no model work was done


def test_prompt_plus_completion_must_fit_the_context_window():
    with make_client(max_new_tokens=8190, max_prompt_tokens=100_000) as client:
        response = chat(client, max_tokens=8190)
        assert_openai_error(response, 400, "context_length_exceeded", "messages")
        message = response.json()["error"]["message"]
        assert message.startswith("This model's maximum context length is 8192 tokens.")
        assert "8190 in the completion" in message


def test_the_engine_checks_the_exact_prompt_when_the_estimate_let_it_through(client):
    budget = client.app.state.budget
    real = budget.speech_positions
    text = "Please answer in one short sentence."
    while budget.template_tokens(text) < 506:  # fits the cap of 512 alone, but not with the transcript's ~9 tokens
        text += " yes"
    budget.speech_positions = lambda samples: 0  # an estimate that is far too low
    try:
        response = chat(client, audio_message(b64(spoken()), text=text))
    finally:
        budget.speech_positions = real
    assert_openai_error(response, 400, "context_length_exceeded")
    assert chat(client).status_code == 200


def test_the_speech_estimate_bounds_the_real_transcript(client):
    from textpro.audio import load_audio

    budget = client.app.state.budget
    samples = load_audio(spoken())
    served = untrained_served()
    transcript = served.pipeline.transcriber.transcribe(samples)
    assert budget.speech_positions(samples) >= served.pipeline.slm.builder.speech_positions(transcript)


def test_request_body_cap_is_configurable_and_checked_before_parsing():
    with make_client(max_request_bytes=64 * 1024) as client:
        response = client.post("/v1/chat/completions", content=b"{" + b" " * 100_000,
                               headers={"content-type": "application/json"})
        assert_openai_error(response, 413, "request_too_large")
        assert "65536 bytes" in response.json()["error"]["message"]


def test_settings_read_the_new_limits_from_the_environment():
    from textpro.errors import ConfigError
    from textpro.serve import ServeSettings

    env = {"TEXTPRO_MAX_TEXT_CHARS": "100", "TEXTPRO_MAX_PROMPT_TOKENS": "300", "TEXTPRO_MAX_REQUEST_BYTES": "4096",
           "TEXTPRO_SHUTDOWN_GRACE_SECONDS": "2.5"}
    settings = ServeSettings.from_env(env)
    assert (settings.max_text_chars, settings.max_prompt_tokens, settings.max_body_bytes,
            settings.shutdown_grace_seconds) == (100, 300, 4096, 2.5)
    assert ServeSettings().max_body_bytes == 25 * 1024 * 1024 * 4 // 3 + 1024 * 1024
    with pytest.raises(ConfigError, match="max_prompt_tokens"):
        ServeSettings(max_prompt_tokens=0)


BAD_TRANSCRIPTIONS = [
    # (name, form fields, status, code, param)
    ("unknown language", {"language": "fr"}, 400, "unsupported_value", "language"),
    ("long prompt", {"prompt": "x" * 9000}, 400, "context_length_exceeded", "prompt"),
    ("temperature out of range", {"temperature": "5"}, 400, "invalid_value", "temperature"),
    ("temperature not a number", {"temperature": "hot"}, 400, "invalid_value", "temperature"),
    ("bad granularity", {"timestamp_granularities[]": "phoneme"}, 400, "invalid_value", "timestamp_granularities[]"),
    ("too many fields", {f"extra{i}": "x" for i in range(40)}, 400, "invalid_request", None),
    ("field over its size", {"language": "e" * 40_000}, 400, "invalid_request", None),
]


def test_transcription_parameters_are_bounded(client):
    files = {"file": ("q.wav", spoken(), "audio/wav")}
    for name, data, status, code, param in BAD_TRANSCRIPTIONS:
        response = client.post("/v1/audio/transcriptions", files=files, data=data)
        try:
            assert_openai_error(response, status, code, param)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None
    two_files = [("file", ("a.wav", spoken(), "audio/wav")), ("file", ("b.wav", spoken(), "audio/wav"))]
    assert_openai_error(client.post("/v1/audio/transcriptions", files=two_files), 400)
    ok = client.post("/v1/audio/transcriptions", files=files,
                     data={"language": "en", "prompt": "Geography.", "temperature": "0",
                           "timestamp_granularities[]": "word"})
    assert ok.status_code == 200 and ok.json()["text"].startswith("What is the capital of France")
