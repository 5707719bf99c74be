"""Prometheus metrics at `GET /metrics` (text exposition format), as vLLM exposes its own:

    textpro_queue_depth                        requests waiting for the model
    textpro_model_busy                         1 while a batch runs
    textpro_batch_size                         requests per model batch (continuous: admitted per step boundary)
    textpro_decode_rows                        rows in the continuous decode batch now
    textpro_queue_wait_seconds                 arrival -> its batch starts (histogram)
    textpro_time_to_first_token_seconds        arrival -> first answer token (histogram)
    textpro_request_duration_seconds           arrival -> last byte sent, by endpoint and status (histogram)
    textpro_requests_total                     by endpoint and status
    textpro_requests_rejected_total            refused without model work (4xx, 429, 503), by status
    textpro_requests_cancelled_total           by reason: timeout, disconnect, shutdown, abandoned
    textpro_cancel_lag_seconds                 a request's cancellation -> the model thread let it go (histogram)
    textpro_model_busy_on_cancelled_seconds    time the model thread worked while all its rows were cancelled

Each app has its own registry (tests and benchmarks run several servers in one process).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from textpro.serve.asgi import HTTPMiddleware
from textpro.serve.engine import Observer

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)
BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64)
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/audio/transcriptions", "/v1/models", "/health",
             "/metrics", "/")
REJECTED = {400, 401, 404, 405, 413, 422, 429, 503}

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


class Metrics(Observer):
    """The engine's Observer, recording into a registry of its own."""

    def __init__(self):
        self.registry = registry = CollectorRegistry()
        self.queue_depth = Gauge("textpro_queue_depth", "Requests waiting for the model", registry=registry)
        self.model_busy = Gauge("textpro_model_busy", "1 while the model thread runs a batch", registry=registry)
        self.decode_rows = Gauge("textpro_decode_rows", "Rows in the continuous decode batch", registry=registry)
        self.batch_size = Histogram("textpro_batch_size", "Requests per model batch", buckets=BATCH_BUCKETS,
                                    registry=registry)
        self.queue_wait = Histogram("textpro_queue_wait_seconds", "From a request's arrival to the start of its batch",
                                    buckets=LATENCY_BUCKETS, registry=registry)
        self.ttft = Histogram("textpro_time_to_first_token_seconds", "From a chat request's arrival to its first "
                              "answer token", buckets=LATENCY_BUCKETS, registry=registry)
        self.latency = Histogram("textpro_request_duration_seconds", "From arrival to the last byte of the response",
                                 ["endpoint", "status"], buckets=LATENCY_BUCKETS, registry=registry)
        self.requests = Counter("textpro_requests", "Responses sent", ["endpoint", "status"], registry=registry)
        self.rejected = Counter("textpro_requests_rejected", "Requests refused without model work", ["status"],
                                registry=registry)
        self.cancelled = Counter("textpro_requests_cancelled", "Requests the model thread let go unfinished",
                                 ["reason"], registry=registry)
        self.cancel_lag = Histogram("textpro_cancel_lag_seconds", "From a request's cancellation until the model "
                                    "thread let it go", buckets=LAG_BUCKETS, registry=registry)
        self.busy_on_cancelled = Histogram("textpro_model_busy_on_cancelled_seconds", "Time the model thread worked "
                                           "while every row of its batch was already cancelled", buckets=LAG_BUCKETS,
                                           registry=registry)

    def watch(self, batcher, engine) -> None:
        """Queue depth, busy and decode rows read at each scrape."""
        self.queue_depth.set_function(lambda: batcher.waiting)
        self.model_busy.set_function(lambda: float(batcher.busy))
        self.decode_rows.set_function(lambda: float(getattr(engine, "active", 0)))

    # ---- Observer (called from the model thread; prometheus_client is thread-safe) -------------------------------
    def batch(self, jobs: list) -> None:
        now = time.monotonic()
        self.batch_size.observe(len(jobs))
        for job in jobs:
            self.queue_wait.observe(max(0.0, now - job.arrived))

    def first_token(self, job) -> None:
        self.ttft.observe(max(0.0, time.monotonic() - job.arrived))

    def dropped(self, token) -> None:
        self.cancelled.labels(token.reason or "abandoned").inc()
        if token.at is not None:
            self.cancel_lag.observe(max(0.0, time.monotonic() - token.at))

    def idle_on_cancelled(self, seconds: float) -> None:
        self.busy_on_cancelled.observe(seconds)

    # ---- requests ------------------------------------------------------------------------------------------------
    def response(self, path: str, status: int, seconds: float) -> None:
        endpoint = path if path in ENDPOINTS else "other"  # no label per unknown path: their number is unbounded
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint, str(status)).observe(seconds)
        if status in REJECTED and endpoint.startswith("/v1/"):
            self.rejected.labels(str(status)).inc()


class RequestMetrics(HTTPMiddleware):
    """Pure ASGI (streamed responses pass through untouched): each response's status and its full duration."""

    def __init__(self, app, metrics: Metrics):
        super().__init__(app)
        self.metrics = metrics

    async def http(self, scope, receive, send):
        started, status = time.monotonic(), [500]

        async def recording_send(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.metrics.response(scope["path"], status[0], time.monotonic() - started)
