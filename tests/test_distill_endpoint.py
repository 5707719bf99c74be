"""`textpro distill --teacher-endpoint URL` against a fake OpenAI-compatible server in a thread (no network): the
prompts are our chat template's rendering, the template hash is stored, concurrency is bounded, failures are
retried with backoff, a rerun resumes, and a file made under another template is refused."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from textpro.cli import main
from textpro.errors import ConfigError, TextproError

QUESTIONS = ["What is the capital of France?", "How many legs does a spider have?", "Name a primary colour.",
             "What do bees make?", "Is ice cold?", "What is two plus two?", "Why is the sky blue?"]


class FakeServer:
    """/v1/models and /v1/completions; answers "ANSWER <n> of <prompt length>"; can fail the first requests."""

    def __init__(self, fail_first: int = 0, fail_status: int = 503, delay: float = 0.03):
        self.prompts: list[str] = []
        self.bodies: list[dict] = []
        self.fail_left = fail_first
        self.fail_status = fail_status
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": "fake-teacher", "object": "model"}]})
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    fail = server.fail_left > 0
                    server.fail_left -= fail
                try:
                    time.sleep(server.delay)
                    if self.path != "/v1/completions":
                        return self._send(404, {"error": "not found"})
                    if fail:
                        return self._send(server.fail_status, {"error": "busy"})
                    with server.lock:
                        server.prompts.append(body["prompt"])
                        server.bodies.append(body)
                        n = len(server.prompts)
                    self._send(200, {"id": f"cmpl-{n}", "object": "text_completion", "model": body["model"],
                                     "choices": [{"index": 0, "text": f" ANSWER {n} of {len(body['prompt'])}",
                                                  "finish_reason": "stop"}]})
                finally:
                    with server.lock:
                        server.in_flight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def tokenizer_dir():
    from textpro.hub import resolve_model

    return resolve_model("smollm2-135m-instruct")  # only its tokenizer loads


@pytest.fixture
def features(tmp_path) -> Path:
    """A feature cache's index (all `distill` reads): ASR transcripts and their manifest records."""
    root = tmp_path / "features"
    root.mkdir()
    (root / "featurize.json").write_text(json.dumps({"format": 1, "shard_size": 4, "num_records": len(QUESTIONS),
                                                     "d_whisper": 8, "kind": "whisperpro"}))
    (root / "index.jsonl").write_text("".join(
        json.dumps({"id": f"utt{i}", "text": q, "manifest": {"task": "semantic", "text": q.upper()}}) + "\n"
        for i, q in enumerate(QUESTIONS)))
    return root


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_endpoint_answers_with_our_template_bounded_retried_and_resumed(features, tokenizer_dir, tmp_path,
                                                                        monkeypatch):
    from transformers import AutoTokenizer

    from textpro.slm import remote_teacher
    from textpro.slm.distill import distill, template_hash
    from textpro.text_llm import render_chat

    monkeypatch.setattr(remote_teacher.time, "sleep", lambda s: None)  # backoff without waiting
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    out = tmp_path / "distill.jsonl"
    with FakeServer(fail_first=3) as server:
        options = {"concurrency": 3, "retries": 4}
        assert distill(features, tokenizer_dir, out, limit=3, progress=False, teacher_endpoint=server.url + "/v1",
                       endpoint_options=options, tokenizer=tokenizer) == 3
        assert distill(features, tokenizer_dir, out, progress=False, teacher_endpoint=server.url,
                       endpoint_options=options, tokenizer=tokenizer) == 4  # resumes: only the other four
        assert distill(features, tokenizer_dir, out, progress=False, teacher_endpoint=server.url,
                       tokenizer=tokenizer) == 0
        assert server.max_in_flight <= 3 + 1  # + 1: a handler still counted just after its response was sent
    answers = {r["id"]: r for r in rows(out)}
    assert sorted(answers) == [f"utt{i}" for i in range(len(QUESTIONS))]
    # exactly the local teacher's rendering: the chat template with the transcript as the whole user message
    assert sorted(server.prompts) == sorted(render_chat(tokenizer, q) for q in QUESTIONS)
    assert server.prompts[0].startswith("<|im_start|>")
    assert all(b["model"] == "fake-teacher" and b["temperature"] == 0.0 and b["max_tokens"] == 256
               for b in server.bodies)
    framing = template_hash(tokenizer)
    for i, question in enumerate(QUESTIONS):
        row = answers[f"utt{i}"]
        assert row["question"] == question and row["source"] == "asr" and row["template_sha256"] == framing
        assert row["response"].startswith("ANSWER ") and row["response"].endswith(
            f"of {len(render_chat(tokenizer, question))}")
        assert row["teacher"] == "fake-teacher"

    # another system prompt is another framing: the file is refused rather than mixed
    with pytest.raises(ConfigError, match="another chat template or system prompt"):
        distill(features, tokenizer_dir, out, progress=False, teacher_endpoint="http://127.0.0.1:9",
                system_prompt="You are terse.", tokenizer=tokenizer)


def test_endpoint_failures_are_one_line_errors_and_keep_what_was_written(features, tokenizer_dir, tmp_path,
                                                                        monkeypatch, capsys):
    from transformers import AutoTokenizer

    from textpro.slm import remote_teacher
    from textpro.slm.distill import distill

    monkeypatch.setattr(remote_teacher.time, "sleep", lambda s: None)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    out = tmp_path / "distill.jsonl"
    with FakeServer(fail_first=100, fail_status=503) as server:  # always busy: retries run out
        with pytest.raises(TextproError, match="HTTP 503"):
            distill(features, tokenizer_dir, out, progress=False, teacher_endpoint=server.url,
                    endpoint_options={"retries": 2, "concurrency": 1}, tokenizer=tokenizer)
        tries = 100 - server.fail_left  # each request tried three times (a second may have started meanwhile)
        assert tries in (3, 6) and (not out.exists() or not rows(out))
    with FakeServer(fail_first=1, fail_status=400) as server:  # a client error is not retried
        with pytest.raises(TextproError, match="HTTP 400"):
            distill(features, tokenizer_dir, out, progress=False, teacher_endpoint=server.url,
                    endpoint_options={"retries": 5, "concurrency": 1}, tokenizer=tokenizer)
        assert server.fail_left == 0 and len(rows(out)) == len(server.prompts)  # answered ones were kept
    code = main(["distill", str(features), "--teacher", str(tokenizer_dir), "--out", str(out), "--quiet",
                 "--teacher-endpoint", "http://127.0.0.1:9", "--retries", "0"])
    assert code == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("textpro: error: http://127.0.0.1:9/v1/models: unreachable") and "\n" not in message
    assert main(["distill", str(features), "--out", str(out), "--teacher", str(tokenizer_dir),
                 "--teacher-endpoint", "ftp://x"]) == 2


def test_cli_distill_through_an_endpoint(features, tokenizer_dir, tmp_path, capsys):
    out = tmp_path / "cli.jsonl"
    with FakeServer() as server:
        assert main(["distill", str(features), "--teacher", str(tokenizer_dir), "--out", str(out), "--quiet",
                     "--teacher-endpoint", server.url, "--teacher-model", "served-name", "--concurrency", "2",
                     "--source", "ground_truth", "--task", "semantic", "--max-new-tokens", "16"]) == 0
    assert f"wrote {len(QUESTIONS)} teacher answers" in capsys.readouterr().out
    written = rows(out)
    assert {r["question"] for r in written} == {q.upper() for q in QUESTIONS}
    # the server counts a request until its handler returns, which can be just after the client sent the next one
    assert {b["model"] for b in server.bodies} == {"served-name"} and server.max_in_flight <= 2 + 1
    assert {b["max_tokens"] for b in server.bodies} == {16}
