"""GET /metrics: Prometheus text with queue depth, batch sizes, time to first token, latencies, and the
rejected and cancelled counts, scraped after traffic of each kind."""

from __future__ import annotations

import threading
import time

import pytest

from tests.serve_support import audio_message, b64, spoken
from tests.test_serve import Gate, chat, make_client

pytestmark = pytest.mark.slow


def scrape(client) -> dict[tuple, float]:
    """{(sample name, sorted label items): value} of one scrape."""
    from prometheus_client.parser import text_string_to_metric_families

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_answers_rejections_cancellations_and_time_to_first_token():
    with make_client(timeout_seconds=3.0, max_queue=1, max_batch_size=1, batch_wait_ms=0) as client:
        before = scrape(client)
        assert value(before, "textpro_queue_depth") == 0 and value(before, "textpro_model_busy") == 0
        assert chat(client).status_code == 200
        assert chat(client, stream=True).status_code == 200
        assert chat(client, audio_message(b64(spoken()), text="x" * 9000)).status_code == 400
        assert client.post("/v1/chat/completions", content=b"{", headers={"content-type": "application/json"}
                           ).status_code == 400

        # one request runs (held), one waits, one is refused with 429; the held one then times out
        gate = Gate(client.app.state.batcher)
        results = []
        running = threading.Thread(target=lambda: results.append(chat(client).status_code))
        running.start()
        gate.wait_until_busy()
        queued = threading.Thread(target=lambda: results.append(chat(client).status_code))
        queued.start()
        while client.app.state.batcher.waiting < 1:
            time.sleep(0.01)
        during = scrape(client)
        assert value(during, "textpro_queue_depth") == 1 and value(during, "textpro_model_busy") == 1
        assert chat(client).status_code == 429
        running.join()
        queued.join()
        gate.event.set()
        assert sorted(results) == [504, 504]
        deadline = time.monotonic() + 10
        while value(scrape(client), "textpro_requests_cancelled_total", reason="timeout") < 2:
            assert time.monotonic() < deadline, "the timed-out requests were never let go"
            time.sleep(0.05)

        after = scrape(client)
        chat_200 = {"endpoint": "/v1/chat/completions", "status": "200"}
        assert value(after, "textpro_requests_total", **chat_200) == 2
        assert value(after, "textpro_request_duration_seconds_count", **chat_200) == 2
        assert value(after, "textpro_request_duration_seconds_sum", **chat_200) > 0
        assert value(after, "textpro_requests_rejected_total", status="400") == 2
        assert value(after, "textpro_requests_rejected_total", status="429") == 1
        assert value(after, "textpro_requests_total", endpoint="/v1/chat/completions", status="504") == 2
        assert value(after, "textpro_time_to_first_token_seconds_count") == 2  # the plain and the streamed answer
        assert 0 < value(after, "textpro_time_to_first_token_seconds_sum") < 60
        assert value(after, "textpro_batch_size_count") >= 2 and value(after, "textpro_batch_size_bucket", le="1.0") \
            == value(after, "textpro_batch_size_count")
        assert value(after, "textpro_queue_wait_seconds_count") >= 2
        assert value(after, "textpro_cancel_lag_seconds_count") == 2
        assert value(after, "textpro_queue_depth") == 0
