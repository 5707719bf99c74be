"""EndpointResponder against a real local HTTP server that checks the OpenAI chat request shape."""

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import soundfile as sf

from tests.eval_fixtures import write_bench
from tests.test_eval_harness import ScriptedText
from textpro.cli import main
from textpro.errors import ModelError
from textpro.eval.harness import evaluate
from textpro.eval.responders import AudioQuery, EndpointResponder, chat_completions_url


class FakeAudioChatServer:
    """Answers "The answer is B" / "female"; records every request; can be told to fail first."""

    def __init__(self, fail_first: int = 0, fail_status: int = 503):
        self.requests, self.problems = [], []
        self.fail_first, self.fail_status = fail_first, fail_status
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if len(server.requests) <= server.fail_first:
                    self._send(server.fail_status, {"error": {"message": "try later"}})
                    return
                problem = server.check(self.path, body)
                if problem:
                    server.problems.append(problem)
                    self._send(400, {"error": {"message": problem}})
                    return
                parts = body["messages"][-1]["content"]
                text = " ".join(p["text"] for p in parts if p.get("type") == "text") if isinstance(parts, list) \
                    else parts
                answer = "The speaker is female." if "gender" in text else "The answer is B."
                self._send(200, {"id": "x", "object": "chat.completion",
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                                              "finish_reason": "stop"}]})

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @staticmethod
    def check(path, body) -> str | None:
        if path != "/v1/chat/completions":
            return f"wrong path {path}"
        message = body["messages"][-1]
        if message["role"] != "user":
            return "last message is not the user's"
        if isinstance(message["content"], str):
            return None  # a text question
        audio_parts = [p for p in message["content"] if p["type"] == "input_audio"]
        if len(audio_parts) != 1 or audio_parts[0]["input_audio"]["format"] != "wav":
            return "expected one input_audio part in wav format"
        samples, rate = sf.read(io.BytesIO(base64.b64decode(audio_parts[0]["input_audio"]["data"])))
        if rate != 16_000 or samples.ndim != 1 or len(samples) < 1600:
            return f"bad audio: {rate} Hz, shape {samples.shape}"
        return None

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = FakeAudioChatServer()
    yield s
    s.close()


@pytest.fixture
def bench(tmp_path):
    return write_bench(tmp_path / "bench")


def test_url_forms():
    assert chat_completions_url("http://h:1") == "http://h:1/v1/chat/completions"
    assert chat_completions_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"
    assert chat_completions_url("http://h:1/v1/chat/completions") == "http://h:1/v1/chat/completions"


def test_audio_request_shape(server, bench):
    responder = EndpointResponder(server.url, model="some-slm", api_key="sk-test", concurrency=2)
    answers = responder.answer_audio([AudioQuery(bench / "audio" / "q0.wav"),
                                      AudioQuery(bench / "audio" / "g0.wav", "What is the speaker's gender?")])
    assert answers == ["The answer is B.", "The speaker is female."]
    assert server.problems == []
    bodies = sorted((r["body"] for r in server.requests), key=lambda b: len(b["messages"][-1]["content"]))
    assert [p["type"] for p in bodies[0]["messages"][-1]["content"]] == ["input_audio"]
    assert [p["type"] for p in bodies[1]["messages"][-1]["content"]] == ["input_audio", "text"]
    assert bodies[0]["model"] == "some-slm" and bodies[0]["temperature"] == 0.0 and bodies[0]["stream"] is False
    assert all(r["headers"]["Authorization"] == "Bearer sk-test" for r in server.requests)


def test_text_request(server):
    assert EndpointResponder(server.url, api_key="").answer_text(["What? A. x B. y"]) == ["The answer is B."]
    assert "Authorization" not in server.requests[0]["headers"]


def test_transient_errors_are_retried():
    flaky = FakeAudioChatServer(fail_first=2, fail_status=503)
    try:
        responder = EndpointResponder(flaky.url, retries=3, backoff=0.0)
        assert responder.answer_text(["hi"]) == ["The answer is B."]
        assert len(flaky.requests) == 3
    finally:
        flaky.close()


def test_client_errors_fail_at_once_with_one_line():
    refusing = FakeAudioChatServer(fail_first=10, fail_status=401)
    try:
        with pytest.raises(ModelError) as caught:
            EndpointResponder(refusing.url, retries=3, backoff=0.0).answer_text(["hi"])
        assert "HTTP 401" in str(caught.value) and "try later" in str(caught.value) and "\n" not in str(caught.value)
        assert len(refusing.requests) == 1
    finally:
        refusing.close()


def test_unreachable_server():
    with pytest.raises(ModelError, match=r"failed after 2 tries"):
        EndpointResponder("http://127.0.0.1:9", retries=1, backoff=0.0, timeout=2).answer_text(["hi"])


def test_evaluate_through_endpoint(server, bench, tmp_path):
    result = evaluate(bench, "test", ScriptedText(), EndpointResponder(server.url, backoff=0.0), out_dir=tmp_path / "o",
                      progress=False)
    assert server.problems == []
    facts, arithmetic = result.semantic
    assert facts.speech.accuracy == 25.0 and facts.gap == 75.0  # the server always says B
    assert arithmetic.speech.accuracy == 0.0
    assert result.paralinguistic[0].speech.accuracy == 50.0  # always "female"


def test_cli_with_endpoint(server, bench, tmp_path, monkeypatch, capsys):
    """`textpro eval --endpoint` end to end, with the text side stubbed (the real text LLM is a slow test)."""
    import textpro.eval.responders as responders

    stub = classmethod(lambda cls, *args, **kwargs: ScriptedText())
    monkeypatch.setattr(responders.TextLLMResponder, "from_pretrained", stub)
    out = tmp_path / "cli-out"
    code = main(["eval", "--bench", str(bench), "--endpoint", server.url, "--out", str(out), "--limit", "2"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| mcq_facts | 2 | 100.0 | 50.0 | +50.0 |" in printed
    assert {p.name for p in out.iterdir()} == {"results.json", "results.md", "results.png", "responses.jsonl"}
