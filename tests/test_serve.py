"""The HTTP API with FastAPI's TestClient over the real untrained models: every endpoint, every error class."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from tests.conftest import tone
from tests.serve_support import QUESTION, audio_message, b64, spoken, untrained_served

pytestmark = pytest.mark.slow

MAX_TOKENS = 12  # short answers keep the suite fast; "Paris" comes first


def make_client(**settings):
    from fastapi.testclient import TestClient

    from textpro.serve import ServeSettings, create_app

    settings.setdefault("max_new_tokens", MAX_TOKENS)
    return TestClient(create_app(untrained_served(), ServeSettings(**settings)))


@pytest.fixture(scope="module")
def client():
    with make_client() as client:
        yield client


def chat(client, messages=None, **body):
    body = {"messages": messages or audio_message(b64(spoken())), **body}
    return client.post("/v1/chat/completions", json=body)


def sse_events(response) -> list:
    """The `data:` payloads of an SSE response, JSON-decoded except the final [DONE]."""
    events = []
    for block in response.text.split("\n\n"):
        if block.startswith("data: "):
            data = block[len("data: "):]
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def assert_openai_error(response, status: int, code: str | None = None, param: str | None = None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and isinstance(error["type"], str)
    if code is not None:
        assert error["code"] == code, error
    if param is not None:
        assert error["param"] == param, error


# ------------------------------------------------------------------------------------------------ endpoints
def test_health_and_models_say_the_model_is_untrained(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["trained"] is False
    assert health["model"] == "textpro-untrained-smollm2-135m-instruct"
    assert "UNTRAINED" in health["description"]
    models = client.get("/v1/models").json()
    assert models["object"] == "list" and [m["id"] for m in models["data"]] == [health["model"]]
    assert models["data"][0]["trained"] is False
    assert client.get(f"/v1/models/{health['model']}").json()["id"] == health["model"]


def test_chat_completion_answers_the_spoken_question_with_transcript_and_prosody(client):
    response = chat(client, model="textpro-untrained-smollm2-135m-instruct", max_tokens=MAX_TOKENS)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and "Paris" in choice["message"]["content"]
    assert choice["finish_reason"] in ("stop", "length")
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]

    heard = body["textpro"]
    assert heard["transcript"].lower().rstrip("?") == QUESTION.lower().rstrip("?")
    assert [w["text"].strip("?").lower() for w in heard["words"]] == QUESTION.lower().rstrip("?").split()
    starts = [w["start"] for w in heard["words"]]
    assert starts == sorted(starts) and all(w["end"] >= w["start"] for w in heard["words"])
    assert heard["words"][-1]["end"] <= heard["duration"] + 0.05
    voiced = [w for w in heard["words"] if w["f0_mean"] is not None]
    assert len(voiced) >= 4 and all(60 <= w["f0_mean"] <= 500 for w in voiced)
    utterance = heard["utterance"]
    assert 60 <= utterance["f0_mean"] <= 500 and utterance["f0_range"] > 0
    assert 1.0 < utterance["speaking_rate_wps"] < 8.0 and -60 < utterance["energy_db"] < 0
    contour = heard["pitch_contour"]
    assert abs(len(contour["f0"]) * contour["hop_seconds"] - heard["duration"]) < 0.05
    assert any(f > 0 for f in contour["f0"])


def test_instruction_text_part_changes_the_prompt(client):
    plain = chat(client).json()
    instructed = chat(client, audio_message(b64(spoken()), text="Answer with one word.")).json()
    assert instructed["usage"]["prompt_tokens"] > plain["usage"]["prompt_tokens"]


def test_streamed_answer_is_openai_chunks_and_equals_the_whole_answer(client):
    whole = chat(client).json()["choices"][0]["message"]["content"]
    response = chat(client, stream=True, stream_options={"include_usage": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "capital of France" in chunks[0]["textpro"]["transcript"]  # heard before the answer starts
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] in ("stop", "length")
    pieces = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1])
    assert pieces.strip() == whole


@pytest.mark.parametrize("fmt", ["FLAC", "OGG"])
def test_chat_accepts_other_audio_formats(client, fmt):
    response = chat(client, audio_message(b64(spoken(fmt=fmt)), fmt=fmt.lower()))
    assert response.status_code == 200, response.text
    assert "France" in response.json()["textpro"]["transcript"]


def test_transcriptions_in_each_response_format(client):
    wav = spoken()
    files = {"file": ("question.wav", wav, "audio/wav")}
    plain = client.post("/v1/audio/transcriptions", files=files, data={"model": "textpro"})
    assert plain.status_code == 200 and plain.json()["text"].startswith("What is the capital of France")

    text = client.post("/v1/audio/transcriptions", files=files, data={"response_format": "text"})
    assert text.headers["content-type"].startswith("text/plain") and text.text.strip() == plain.json()["text"]

    verbose = client.post("/v1/audio/transcriptions", files=files, data={"response_format": "verbose_json"}).json()
    assert verbose["text"] == plain.json()["text"] and verbose["duration"] > 1
    assert [w["word"] for w in verbose["words"]] == [w["text"] for w in verbose["textpro"]["words"]]
    assert verbose["segments"][0]["start"] == verbose["words"][0]["start"]
    assert verbose["segments"][-1]["end"] == verbose["words"][-1]["end"]
    assert verbose["textpro"]["utterance"]["f0_mean"] > 0


def test_concurrent_requests_share_micro_batches_and_get_the_same_answers():
    # (clips tiny.en transcribes cleanly: some piper clips make it repeat the sentence until its token limit)
    questions = [QUESTION, "How many legs does a spider have?", "What is the largest planet?",
                 "What is the boiling point of water?"]
    with make_client(max_batch_size=4, batch_wait_ms=300) as client:
        alone = [chat(client, audio_message(b64(spoken(q)))).json()["choices"][0]["message"]["content"]
                 for q in questions[:2]]
        results = [None] * len(questions)

        def ask(i):
            results[i] = chat(client, audio_message(b64(spoken(questions[i]))))

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r.status_code == 200 for r in results)
        assert client.get("/health").json()["batching"]["largest_batch"] >= 2
        # batched (left-padded) greedy answers equal the answers given alone
        assert [r.json()["choices"][0]["message"]["content"] for r in results[:2]] == alone


# ------------------------------------------------------------------------------------------------ errors
def wav_bytes(samples: np.ndarray) -> bytes:
    import io

    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, samples, 16_000, format="WAV")
    return buffer.getvalue()


BAD_CHATS = [
    # (name, request body or raw bytes, status, code, param)
    ("malformed json", b'{"messages": [', 400, "invalid_json", None),
    ("body not an object", b'[1, 2]', 400, "invalid_json", None),
    ("missing messages", {"model": "textpro"}, 400, "invalid_request", "messages"),
    ("empty messages", {"messages": []}, 400, "invalid_request", "messages"),
    ("unknown role", {"messages": [{"role": "robot", "content": "hi"}]}, 400, "invalid_request", None),
    ("no user message", {"messages": [{"role": "system", "content": "be brief"}]}, 400, "invalid_request",
     "messages"),
    ("text only", {"messages": [{"role": "user", "content": "hello"}]}, 400, "missing_audio", None),
    ("no audio part", {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}, 400,
     "missing_audio", None),
    ("image part", {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
     400, "unsupported_content", "messages[0].content[0].type"),
    ("bad base64", {"messages": audio_message("not base64 at all!!")}, 400, "invalid_base64",
     "messages[0].content[0].input_audio.data"),
    ("empty audio", {"messages": audio_message("")}, 400, "invalid_audio", None),
    ("not audio", {"messages": audio_message(b64(b"this is plain text, not a sound file" * 20))}, 400,
     "invalid_audio", "messages[0].content[0].input_audio.data"),
    ("unsupported format", {"messages": audio_message(b64(b"RIFF"), fmt="aac")}, 400, "unsupported_format",
     "messages[0].content[0].input_audio.format"),
    ("silence", {"messages": audio_message(b64(wav_bytes(np.zeros(16_000, np.float32))))}, 400, "invalid_audio",
     None),
    ("too long", {"messages": audio_message(b64(wav_bytes(tone(5.0))))}, 400, "invalid_audio", None),
    ("unknown model", {"model": "gpt-4o", "messages": audio_message(b64(b"x"))}, 404, "model_not_found", "model"),
    ("n > 1", {"n": 2, "messages": audio_message(b64(b"x"))}, 400, "unsupported_value", "n"),
    ("bad temperature", {"temperature": 7, "messages": audio_message(b64(b"x"))}, 400, "invalid_request",
     "temperature"),
]


@pytest.fixture(scope="module")
def strict_client():
    """Small limits: 4 s of audio, 200 kB uploads."""
    with make_client(max_audio_seconds=4.0, max_upload_bytes=200_000) as client:
        yield client


def test_every_bad_request_gets_an_openai_error_and_the_server_keeps_serving(strict_client):
    for name, body, status, code, param in BAD_CHATS:
        if isinstance(body, bytes):
            response = strict_client.post("/v1/chat/completions", content=body,
                                          headers={"content-type": "application/json"})
        else:
            response = strict_client.post("/v1/chat/completions", json=body)
        try:
            assert_openai_error(response, status, code, param)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None

    assert_openai_error(strict_client.post("/v1/chat/completions",
                                           json={"messages": audio_message(b64(bytes(300_000)))}), 413,
                        "audio_too_large")
    assert_openai_error(strict_client.post("/v1/chat/completions", content=b"x" * 1_500_000,
                                           headers={"content-type": "application/json"}), 413, "request_too_large")

    files = {"file": ("q.wav", spoken(), "audio/wav")}
    assert_openai_error(strict_client.post("/v1/audio/transcriptions"), 400, "invalid_request", "file")
    assert_openai_error(strict_client.post("/v1/audio/transcriptions", files=files,
                                           data={"response_format": "srt"}), 400, "unsupported_value")
    assert_openai_error(strict_client.post("/v1/audio/transcriptions", files=files, data={"model": "whisper-9"}),
                        404, "model_not_found")
    assert_openai_error(strict_client.post("/v1/audio/transcriptions", files={"file": ("e.wav", b"", "audio/wav")}),
                        400, "invalid_audio")
    assert_openai_error(strict_client.post("/v1/audio/transcriptions",
                                           files={"file": ("x.wav", b"GIF89a" * 50, "audio/wav")}), 400,
                        "invalid_audio", "file")
    assert_openai_error(strict_client.post("/v1/audio/transcriptions",
                                           files={"file": ("big.wav", bytes(250_000), "audio/wav")}), 413)
    assert_openai_error(strict_client.get("/v1/nothing-here"), 404)
    assert_openai_error(strict_client.get("/v1/models/gpt-4o"), 404, "model_not_found")
    assert_openai_error(strict_client.get("/v1/chat/completions"), 405)

    # ... and after all of that, a good request is answered
    good = chat(strict_client)
    assert good.status_code == 200 and "Paris" in good.json()["choices"][0]["message"]["content"]


def test_api_key_is_required_when_configured():
    with make_client(api_key="s3cret") as client:
        assert_openai_error(client.get("/v1/models"), 401, "invalid_api_key")
        assert_openai_error(client.get("/v1/models", headers={"Authorization": "Bearer wrong"}), 401)
        assert_openai_error(chat(client), 401)
        ok = {"Authorization": "Bearer s3cret"}
        assert client.get("/v1/models", headers=ok).status_code == 200
        files = {"file": ("q.wav", spoken(), "audio/wav")}
        assert client.post("/v1/audio/transcriptions", files=files, headers=ok).status_code == 200
        assert client.get("/health").status_code == 200  # health and the page stay open
        assert client.get("/").status_code == 200


class Gate:
    """Holds the model's worker thread until opened, so tests can fill the queue or outlast the timeout."""

    def __init__(self, batcher):
        self.batcher, self.event, self.real = batcher, threading.Event(), batcher.run_batch
        batcher.run_batch = self.run

    def run(self, payloads):
        self.event.wait(30)
        return self.real(payloads)

    def wait_until_busy(self):
        deadline = time.monotonic() + 10
        while not self.batcher.busy:
            assert time.monotonic() < deadline, "the worker never started"
            time.sleep(0.01)


def test_full_queue_answers_429_and_the_queued_requests_still_finish():
    with make_client(max_queue=1, max_batch_size=1, batch_wait_ms=0) as client:
        gate = Gate(client.app.state.batcher)
        results = {}
        running = threading.Thread(target=lambda: results.setdefault("running", chat(client)))
        running.start()
        gate.wait_until_busy()
        queued = threading.Thread(target=lambda: results.setdefault("queued", chat(client)))
        queued.start()
        while client.app.state.batcher.waiting < 1:
            time.sleep(0.01)
        rejected = chat(client)
        assert_openai_error(rejected, 429, "queue_full")
        assert rejected.headers["retry-after"] == "1"
        stream_rejected = chat(client, stream=True)
        assert_openai_error(stream_rejected, 429, "queue_full")
        gate.event.set()
        running.join()
        queued.join()
        assert results["running"].status_code == 200 and results["queued"].status_code == 200


def test_request_timeout_answers_504_and_the_server_recovers():
    with make_client(timeout_seconds=0.5) as client:
        gate = Gate(client.app.state.batcher)
        assert_openai_error(chat(client), 504, "timeout")
        assert_openai_error(chat(client, stream=True), 504, "timeout")
        files = {"file": ("q.wav", spoken(), "audio/wav")}
        assert_openai_error(client.post("/v1/audio/transcriptions", files=files), 504, "timeout")
        gate.event.set()
        client.app.state.settings.timeout_seconds = 60  # the same server, now with time to answer
    with make_client() as client:
        assert chat(client).status_code == 200


def test_page_and_its_assets_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    assert "/v1/chat/completions" in client.get("/static/app.js").text
