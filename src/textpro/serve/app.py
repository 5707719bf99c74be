"""The FastAPI app: OpenAI-compatible routes over a micro-batched model, plus the web page at `/`.

    POST /v1/chat/completions       chat with an input_audio part; `stream: true` answers as SSE chunks (chat.py)
    POST /v1/audio/transcriptions   multipart file -> transcript (json | verbose_json | text) (routes.py)
    POST /v1/completions            text prompt -> the LLM's continuation, no audio, no chat template (completions.py)
    GET  /v1/models, GET /health, GET / (the page) (routes.py), GET /metrics (Prometheus; metrics.py)

`create_app` builds the engine and its batcher and puts them, with the settings, on `app.state`; each route is one
handler that reads `request.app.state` (handlers.py has what they share).
"""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from textpro.serve import chat, completions, routes
from textpro.serve.batching import ContinuousBatcher, MicroBatcher
from textpro.serve.engine import Engine, ServedModel, end_of_turn_ids
from textpro.serve.errors import install_error_handlers
from textpro.serve.limits import BodySizeLimit, PromptBudget
from textpro.serve.metrics import Metrics, RequestMetrics
from textpro.serve.metrics import router as metrics_router
from textpro.serve.routes import STATIC
from textpro.serve.settings import ServeSettings
from textpro.serve.shutdown import drain_on_signals

log = logging.getLogger("textpro.serve")


def create_app(served: ServedModel, settings: ServeSettings | None = None) -> FastAPI:
    settings = settings or ServeSettings()
    budget = PromptBudget(served.pipeline, settings.max_prompt_tokens)
    metrics = Metrics()
    engine, batcher, endpoint = build_engine(served, settings, budget, metrics)
    metrics.watch(batcher, engine)

    app = FastAPI(title="textpro", summary="TextPro-SLM: OpenAI-compatible speech chat", lifespan=lifespan)
    app.state.settings, app.state.engine, app.state.batcher, app.state.served = settings, engine, batcher, served
    app.state.budget, app.state.metrics, app.state.endpoint = budget, metrics, endpoint
    app.state.started_at = int(time.time())
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=metrics)  # outermost: it sees the body limit's 413 too
    app.include_router(metrics_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(routes.router)
    app.include_router(chat.router)
    app.include_router(routes.transcription_router)
    app.include_router(completions.router)
    return app


def build_engine(served: ServedModel, settings: ServeSettings, budget: PromptBudget, metrics: Metrics):
    """(engine, batcher, endpoint): the local engine micro-batched, continuously batched, or feeding an LLM
    endpoint (endpoint None unless --llm-endpoint)."""
    dropped = lambda token: engine.observer.dropped(token)  # noqa: E731 - tests swap the observer
    endpoint = None
    if settings.llm_endpoint:
        from textpro.serve.remote import LLMEndpoint, RemoteEngine

        engine = RemoteEngine(served, budget, observer=metrics, dtype=settings.llm_endpoint_dtype)
        batcher = MicroBatcher(engine.run, settings.max_batch_size, settings.batch_wait_ms, settings.max_queue,
                               on_dropped=dropped)
        endpoint = LLMEndpoint(settings.llm_endpoint, settings.llm_endpoint_model, settings.llm_endpoint_api_key,
                               stop_token_ids=end_of_turn_ids(served.pipeline.slm),
                               banned_token_ids=[served.pipeline.slm.placeholder_id])
    elif settings.continuous_batching:
        from textpro.serve.continuous import ContinuousEngine

        engine = ContinuousEngine(served, budget, observer=metrics, max_rows=settings.max_batch_size)
        batcher = ContinuousBatcher(engine, settings.max_batch_size, settings.batch_wait_ms, settings.max_queue,
                                    on_dropped=dropped)
    else:
        engine = Engine(served, budget, observer=metrics)
        batcher = MicroBatcher(engine.run, settings.max_batch_size, settings.batch_wait_ms, settings.max_queue,
                               on_dropped=dropped)
    return engine, batcher, endpoint


@asynccontextmanager
async def lifespan(app: FastAPI):
    state = app.state
    state.batcher.start()
    log.info("serving %s: %s", state.served.model_id, state.served.description)
    with drain_on_signals(state.batcher, state.settings.shutdown_grace_seconds):
        yield
    await state.batcher.stop()
    if state.endpoint is not None:
        await state.endpoint.aclose()
