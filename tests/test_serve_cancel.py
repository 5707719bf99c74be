"""Cancellation: a request that times out, whose client leaves, or that shutdown drops stops costing the
model within one step, in WhisperPro's decoding as in the LLM's; SIGTERM ends the server within 10 s."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.serve_support import QUESTION, audio_message, b64, free_port, live_server, spoken, untrained_served
from tests.test_serve import Gate, assert_openai_error, chat, make_client

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
COUNTING = "Count from one to one hundred, one number per line."  # a long answer: many decoding steps
LONG_PROMPT = "Please answer in one short sentence. " * 200


def samples(text: str = QUESTION):
    from textpro.audio import load_audio

    return load_audio(spoken(text))


class Recorder:
    """An engine Observer that keeps what it is told."""

    def __init__(self):
        self.reasons, self.idle, self.first_tokens, self.batches = [], [], 0, []

    def batch(self, jobs):
        self.batches.append(len(jobs))

    def first_token(self, job):
        self.first_tokens += 1

    def dropped(self, token):
        self.reasons.append(token.reason)

    def idle_on_cancelled(self, seconds):
        self.idle.append(seconds)


@contextmanager
def counting_calls(model, after=None):
    """Counts forward calls of `model` (the whole LLM, or one decoder layer); after(n) runs after call n."""
    calls = []

    def hook(module, args, output):
        calls.append(time.monotonic())
        if after is not None:
            after(len(calls))

    handle = model.register_forward_hook(hook)
    try:
        yield calls
    finally:
        handle.remove()


@pytest.fixture(scope="module")
def engine():
    from textpro.serve.engine import Engine

    engine = Engine(untrained_served())
    engine.observer = Recorder()
    return engine


def chat_job(text: str | None = COUNTING, max_new_tokens: int = 120, stream: bool = False):
    from textpro.serve.engine import ChatJob, StreamChatJob
    from textpro.serve.schemas import Generation

    generation = Generation(max_new_tokens, do_sample=False, temperature=1.0, top_p=1.0)
    if stream:
        return StreamChatJob(samples(), text, generation, emit=lambda kind, value: None)
    return ChatJob(samples(), text, generation)


def test_a_cancelled_llm_batch_stops_within_one_step(engine, one_thread):
    from textpro.serve.cancel import Cancelled

    job = chat_job()
    llm = engine.pipeline.slm.llm
    cancelled_at = []

    def cancel_at_third_step(n):
        if n == 3:
            job.cancel.cancel("disconnect")
            cancelled_at.append(n)

    with counting_calls(llm, cancel_at_third_step) as calls:
        result = engine.run([job])[0]
    assert isinstance(result, Cancelled)
    assert cancelled_at == [3] and len(calls) == 3  # not one more LLM forward pass after the cancel
    assert engine.observer.reasons[-1] == "disconnect"


def test_a_long_prefill_stops_at_the_next_layer(engine, one_thread):
    from textpro.serve.cancel import Cancelled

    job = chat_job("Please answer in one short sentence. " * 50)  # a prefill of ~400 positions
    layers = engine.pipeline.slm.llm.model.layers
    with counting_calls(layers[5], lambda n: job.cancel.cancel("timeout")), \
            counting_calls(layers[6]) as after, counting_calls(layers[-1]) as last:
        assert isinstance(engine.run([job])[0], Cancelled)
    assert after == [] and last == []  # layer 6 never ran: the prefill stopped inside its first forward pass
    assert engine.observer.idle and max(engine.observer.idle) < 1.0


def test_a_cancelled_row_leaves_the_others_unchanged(engine, one_thread):
    from textpro.serve.cancel import Cancelled

    alone = engine.run([chat_job(None, max_new_tokens=24)])[0].answer
    long, short = chat_job(COUNTING, max_new_tokens=120), chat_job(None, max_new_tokens=120)
    with counting_calls(engine.pipeline.slm.llm, lambda n: n == 2 and long.cancel.cancel("timeout")) as calls:
        results = engine.run([long, short])
    assert isinstance(results[0], Cancelled)
    assert results[1].answer == alone  # the surviving row answers as it would alone
    # the batch ended with the short answer: the cancelled row's 120-token count was not generated
    assert len(calls) <= results[1].completion_tokens + 2 < 60


def test_a_deadline_stops_generation_and_a_job_past_it_is_never_started(engine, one_thread):
    from textpro.serve.cancel import Cancelled

    job = chat_job()
    with counting_calls(engine.pipeline.slm.llm, lambda n: n == 4 and setattr(job.cancel, "deadline", 0.0)) as calls:
        assert isinstance(engine.run([job])[0], Cancelled)
    assert len(calls) == 4 and job.cancel.reason == "timeout"

    late = chat_job()
    late.cancel.deadline = time.monotonic() - 1
    decoder = engine.pipeline.transcriber.model.model.encoder.layers[0]  # the first thing a job runs
    with counting_calls(decoder) as whisper, counting_calls(engine.pipeline.slm.llm) as llm:
        assert isinstance(engine.run([late])[0], Cancelled)
    assert whisper == [] and llm == []


def test_a_cancelled_whisperpro_decoding_stops_within_one_step(engine, one_thread):
    from textpro.serve.cancel import Cancelled
    from textpro.serve.engine import TranscribeJob

    job = TranscribeJob(samples())
    decoder = engine.pipeline.transcriber.model.model.decoder.layers[0]
    with counting_calls(decoder, lambda n: n == 2 and job.cancel.cancel("disconnect")) as whisper, \
            counting_calls(engine.pipeline.slm.llm) as llm:
        assert isinstance(engine.run([job])[0], Cancelled)
    assert len(whisper) == 2 and llm == []


def test_a_cancelled_row_leaves_whisperpro_decoding_and_the_other_is_unchanged(engine, one_thread):
    from textpro.serve.cancel import Cancelled
    from textpro.serve.engine import TranscribeJob

    kept, cancelled = TranscribeJob(samples()), TranscribeJob(samples(COUNTING))
    alone = engine.run([TranscribeJob(samples())])[0].transcript
    decoder = engine.pipeline.transcriber.model.model.decoder.layers[0]
    rows = []  # the batch size of every decoder pass: the decoding steps, then the alignment pass
    handle = decoder.register_forward_pre_hook(lambda module, args: rows.append(args[0].shape[0]))
    try:
        with counting_calls(decoder, lambda n: n == 2 and cancelled.cancel.cancel("disconnect")):
            results = engine.run([kept, cancelled])
    finally:
        handle.remove()
    assert isinstance(results[1], Cancelled)
    assert rows[:2] == [2, 2] and set(rows[2:]) == {1}  # from the next step on, only the live row is computed
    assert len(rows) > 4  # the kept row went on decoding (steps and alignment) without it
    assert results[0].transcript.token_ids == alone.token_ids  # token for token as alone
    assert results[0].transcript.text == alone.text


def test_a_cancelled_stream_stops_generating(engine, one_thread):
    from textpro.serve.cancel import Cancelled

    job = chat_job(stream=True)
    pieces = []
    job.emit = lambda kind, value: pieces.append(kind) or (len(pieces) == 4 and job.cancel.cancel("disconnect"))
    with counting_calls(engine.pipeline.slm.llm) as calls:
        assert isinstance(engine.run([job])[0], Cancelled)
    assert len(calls) < 10  # of up to 120 steps


def test_a_request_that_timed_out_in_the_queue_costs_the_model_nothing():
    with make_client(timeout_seconds=0.5, max_batch_size=1) as client:
        engine = client.app.state.engine
        engine.observer = recorder = Recorder()
        gate = Gate(client.app.state.batcher)
        with counting_calls(engine.pipeline.transcriber.model.model.decoder.layers[0]) as whisper, \
                counting_calls(engine.pipeline.slm.llm) as llm:
            assert_openai_error(chat(client), 504, "timeout")
            gate.event.set()
            deadline = time.monotonic() + 10
            while not recorder.reasons and time.monotonic() < deadline:
                time.sleep(0.02)
        assert recorder.reasons == ["timeout"] and whisper == [] and llm == []


def test_requests_that_gave_up_do_not_hold_places_in_the_queue():
    with make_client(timeout_seconds=1.0, max_queue=1, max_batch_size=1, batch_wait_ms=0) as client:
        gate = Gate(client.app.state.batcher)
        results = []
        running = threading.Thread(target=lambda: results.append(chat(client).status_code))
        running.start()
        gate.wait_until_busy()
        assert_openai_error(chat(client), 504, "timeout")  # waited in the queue's one place, then gave up
        assert client.app.state.batcher.waiting == 1  # its item is still in the line...
        assert_openai_error(chat(client), 504, "timeout")  # ...but it no longer costs a live request a 429
        gate.event.set()
        running.join()
        assert results == [504]


def post_and_hang_up(url: str, body: dict, read_first_line: bool = False) -> None:
    """Send a chat request over a raw connection and close it without waiting for the answer."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("POST", "/v1/chat/completions", body=json.dumps(body),
                       headers={"content-type": "application/json"})
    if read_first_line:
        response = connection.getresponse()
        assert response.status == 200
        response.fp.readline()
    connection.sock.shutdown(2)
    connection.close()


def wait_for(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_a_client_that_disconnects_stops_its_work_in_queue_and_mid_stream():
    from textpro.serve import ServeSettings, create_app

    app = create_app(untrained_served(), ServeSettings(max_new_tokens=200, max_batch_size=1))
    engine = app.state.engine
    engine.observer = recorder = Recorder()
    with live_server(app) as url:
        gate = Gate(app.state.batcher)
        body = {"messages": audio_message(b64(spoken()), text=COUNTING), "max_tokens": 200}
        post_and_hang_up(url, body)  # waits behind the gate, then its client leaves
        wait_for(lambda: app.state.batcher.busy)
        time.sleep(0.5)  # the disconnect reaches the server
        with counting_calls(engine.pipeline.slm.llm) as llm:
            gate.event.set()
            wait_for(lambda: recorder.reasons)
        assert recorder.reasons == ["disconnect"] and llm == []

        with counting_calls(engine.pipeline.slm.llm) as llm:
            post_and_hang_up(url, {**body, "stream": True}, read_first_line=True)
            wait_for(lambda: len(recorder.reasons) == 2)
        assert recorder.reasons[1] == "disconnect"
        assert len(llm) < 100  # of the 200 steps it asked for
        steps_at_drop = len(llm)
        time.sleep(0.5)
        assert len(llm) == steps_at_drop  # and nothing after


def health(port: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/health")
    return json.loads(connection.getresponse().read())


def test_sigterm_cancels_in_flight_work_and_exits_within_10_s(tmp_path):
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TEXTPRO_MAX_NEW_TOKENS": "256", "OMP_NUM_THREADS": "1"}
    log = (tmp_path / "serve.log").open("w")  # not a pipe: a full pipe would block the server's logging
    server = subprocess.Popen([sys.executable, "-m", "textpro.cli", "serve", "--port", str(port),
                               "--max-batch-size", "1"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the server did not start"
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        statuses, bodies, retry_after = [], [], []
        # ~1,400 prompt tokens: seconds of prefill each, so the queue holds far more work than the grace period
        body = json.dumps({"messages": audio_message(b64(spoken()), text=LONG_PROMPT), "max_tokens": 256})

        def ask():
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("POST", "/v1/chat/completions", body=body,
                                   headers={"content-type": "application/json"})
                response = connection.getresponse()
                statuses.append(response.status)
                bodies.append(response.read()[:300])
                retry_after.append(response.getheader("retry-after"))
            except OSError:
                statuses.append("closed")

        clients = [threading.Thread(target=ask) for _ in range(8)]  # a minute of work or more, one at a time
        for client in clients:
            client.start()
        wait_for(lambda: health(port)["waiting"] >= 2, 30)  # one is generating, others wait
        sent = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
        took = time.monotonic() - sent
        for client in clients:
            client.join(timeout=10)
        assert took < 10, f"exited {took:.1f} s after SIGTERM"
        assert len(statuses) == 8 and all(s in (200, 503) for s in statuses), (statuses, bodies)
        assert statuses.count(503) >= 1  # work was cut short with a proper status, not finished
        answers = zip(statuses, bodies, retry_after, strict=True)
        cut = [(body, retry) for status, body, retry in answers if status == 503]
        assert all(b'"shutting_down"' in body and retry == "1" for body, retry in cut)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
