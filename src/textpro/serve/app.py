"""The FastAPI app: OpenAI-compatible routes over a micro-batched model, plus the web page at `/`.

    POST /v1/chat/completions       chat with an input_audio part; `stream: true` answers as SSE chunks
    POST /v1/audio/transcriptions   multipart file -> transcript (json | verbose_json | text)
    GET  /v1/models, GET /health, GET /metrics (Prometheus), GET / (the page)
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from textpro.audio import load_audio
from textpro.errors import TextproError
from textpro.serve.batching import ContinuousBatcher, MicroBatcher, QueueFull, ShuttingDown
from textpro.serve.cancel import Cancelled, CancelToken
from textpro.serve.engine import Answered, ChatJob, Engine, Heard, ServedModel, StreamChatJob, TranscribeJob
from textpro.serve.errors import APIError, error_body, from_textpro_error, install_error_handlers
from textpro.serve.limits import BodySizeLimit, PromptBudget
from textpro.serve.metrics import Metrics, RequestMetrics
from textpro.serve.metrics import router as metrics_router
from textpro.serve.schemas import ChatCompletionRequest, generation_options, spoken_turn
from textpro.serve.settings import ServeSettings
from textpro.serve.shutdown import drain_on_signals
from textpro.serve.transcription import MAX_FORM_FIELDS, segments_of, transcription_params
from textpro.serve.waiting import cancelled_error, outcome, shutting_down

log = logging.getLogger("textpro.serve")
STATIC = Path(__file__).resolve().parent / "static"
MODEL_ALIASES = ("textpro",)  # accepted in `model` besides the served id


def end_of_turn_ids(slm) -> list[int]:
    """The ids that end an answer locally (the generation config's eos and the tokenizer's), for the endpoint."""
    eos = slm.llm.generation_config.eos_token_id
    eos = [eos] if isinstance(eos, int) else list(eos or [])
    return sorted({*eos, slm.tokenizer.eos_token_id} - {None})


def create_app(served: ServedModel, settings: ServeSettings | None = None) -> FastAPI:
    settings = settings or ServeSettings()
    budget = PromptBudget(served.pro, settings.max_prompt_tokens)
    metrics = Metrics()
    dropped = lambda token: engine.observer.dropped(token)  # noqa: E731 - tests swap the observer
    endpoint = None
    if settings.llm_endpoint:
        from textpro.serve.remote import LLMEndpoint, RemoteEngine

        engine = RemoteEngine(served, budget, observer=metrics, dtype=settings.llm_endpoint_dtype)
        batcher = MicroBatcher(engine.run, settings.max_batch_size, settings.batch_wait_ms, settings.max_queue,
                               on_dropped=dropped)
        endpoint = LLMEndpoint(settings.llm_endpoint, settings.llm_endpoint_model, settings.llm_endpoint_api_key,
                               stop_token_ids=end_of_turn_ids(served.pro.slm),
                               banned_token_ids=[served.pro.slm.placeholder_id])
    elif settings.continuous_batching:
        from textpro.serve.continuous import ContinuousEngine

        engine = ContinuousEngine(served, budget, observer=metrics, max_rows=settings.max_batch_size)
        batcher = ContinuousBatcher(engine, settings.max_batch_size, settings.batch_wait_ms, settings.max_queue,
                                    on_dropped=dropped)
    else:
        engine = Engine(served, budget, observer=metrics)
        batcher = MicroBatcher(engine.run, settings.max_batch_size, settings.batch_wait_ms, settings.max_queue,
                               on_dropped=dropped)
    metrics.watch(batcher, engine)
    started_at = int(time.time())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        log.info("serving %s: %s", served.model_id, served.description)
        with drain_on_signals(batcher, settings.shutdown_grace_seconds):
            yield
        await batcher.stop()
        if endpoint is not None:
            await endpoint.aclose()

    app = FastAPI(title="textpro", summary="TextPro-SLM: OpenAI-compatible speech chat", lifespan=lifespan)
    app.state.settings, app.state.engine, app.state.batcher, app.state.served = settings, engine, batcher, served
    app.state.budget, app.state.metrics, app.state.endpoint = budget, metrics, endpoint
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=metrics)  # outermost: it sees the body limit's 413 too
    app.include_router(metrics_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    async def require_api_key(request: Request) -> None:
        if settings.api_key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), settings.api_key):
            raise APIError(401, "missing or wrong API key: send `Authorization: Bearer <key>`",
                           code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})

    def check_model(name: str | None) -> None:
        if name is not None and name not in (served.model_id, *MODEL_ALIASES):
            raise APIError(404, f"model {name!r} does not exist here; this server serves {served.model_id!r}",
                           param="model", code="model_not_found")

    async def decode(audio: bytes, param: str):
        try:
            return await run_in_threadpool(load_audio, audio, max_seconds=settings.max_audio_seconds, name=param)
        except TextproError as exc:
            raise from_textpro_error(exc, param) from None

    def deadline_token(started: float) -> CancelToken:
        return CancelToken(deadline=started + settings.timeout_seconds)

    async def run_job(job, request: Request):
        """Queue a job and wait for its result until the request's deadline or its client leaving."""
        return await outcome(submit(job), job.cancel, request, settings.timeout_seconds)

    def submit(job, solo: bool = False) -> asyncio.Future:
        try:
            return batcher.submit(job, solo=solo)
        except QueueFull:
            raise APIError(429, f"server busy: {settings.max_queue} requests already waiting; retry shortly",
                           code="queue_full", headers={"Retry-After": "1"}) from None
        except ShuttingDown:
            raise shutting_down() from None

    # ----------------------------------------------------------------------------------------------- routes
    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html")

    @app.get("/health")
    async def health():
        return {"status": "ok", "model": served.model_id, "trained": served.trained,
                "description": served.description, "waiting": batcher.waiting, "busy": batcher.busy,
                "llm_endpoint": endpoint.base if endpoint is not None else None,
                "batching": {"max_batch_size": settings.max_batch_size, "wait_ms": settings.batch_wait_ms,
                             "batches_run": engine.batches_run, "largest_batch": engine.largest_batch}}

    @app.get("/v1/models", dependencies=[Depends(require_api_key)])
    async def models():
        return {"object": "list", "data": [model_card()]}

    @app.get("/v1/models/{model_id}", dependencies=[Depends(require_api_key)])
    async def model(model_id: str):
        check_model(model_id)
        return model_card()

    def model_card() -> dict:
        return {"id": served.model_id, "object": "model", "created": started_at, "owned_by": "textpro",
                "trained": served.trained, "description": served.description}

    @app.post("/v1/chat/completions", dependencies=[Depends(require_api_key)])
    async def chat_completions(body: ChatCompletionRequest, request: Request):
        started = time.monotonic()
        check_model(body.model)
        generation = generation_options(body, settings.max_new_tokens)
        turn = spoken_turn(body, settings.max_upload_bytes, settings.max_text_chars)
        samples = await decode(turn.audio, turn.audio_param)
        budget.check(samples, turn.prompt, generation.max_new_tokens)  # before the queue: what cannot fit is refused
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        if endpoint is not None:
            job = ChatJob(samples, turn.prompt, generation, deadline_token(started), started)
            prepared = await run_job(job, request)  # transcript and prompt embeddings, made on the model thread
            if body.stream:
                return await remote_stream(job, prepared, completion_id, created, include_usage, request)
            return await remote_answer(job, prepared, completion_id, created, request)
        if body.stream:
            job = StreamChatJob(samples, turn.prompt, generation, deadline_token(started), started)
            return await stream_chat(job, completion_id, created, include_usage, request)
        job = ChatJob(samples, turn.prompt, generation, deadline_token(started), started)
        result: Answered = await run_job(job, request)
        return {"id": completion_id, "object": "chat.completion", "created": created, "model": served.model_id,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": result.answer, "refusal": None},
                             "logprobs": None, "finish_reason": result.finish_reason}],
                "usage": usage(result), "textpro": result.heard.readout}

    async def stream_chat(job: StreamChatJob, completion_id: str, created: int, include_usage: bool,
                          request: Request):
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        job.emit = lambda kind, value: loop.call_soon_threadsafe(events.put_nowait, (kind, value))
        future = submit(job, solo=not settings.continuous_batching)  # continuous batches stream any row
        future.add_done_callback(lambda f: events.put_nowait(("done", f)))

        # Wait for the transcript before answering 200: a timeout or a bad clip still gets a proper status.
        try:
            kind, value = await outcome(asyncio.ensure_future(events.get()), job.cancel, request,
                                        settings.timeout_seconds)
        finally:
            if job.cancel.cancelled:
                future.cancel()
        if kind == "done":
            await outcome(value, job.cancel, None, settings.timeout_seconds)  # raises the job's error
            raise APIError(500, "the answer ended before its transcript", code="internal_error")
        heard: Heard = value

        def chunk(delta: dict, finish_reason: str | None = None, **extra) -> str:
            return sse_chunk(completion_id, created, delta, finish_reason, **extra)

        async def sse():
            try:
                # the first chunk carries what was heard, so a page can show it while the answer is generated
                yield chunk({"role": "assistant", "content": ""}, textpro=heard.readout)
                while True:
                    kind, value = await events.get()
                    if kind == "text":
                        if value:
                            yield chunk({"content": value})
                        continue
                    error = Cancelled() if value.cancelled() else value.exception()
                    if isinstance(error, Cancelled) or job.cancel.cancelled:
                        cut = cancelled_error(job.cancel, settings.timeout_seconds)
                        body = error_body(cut.status, f"{cut.message} (answer cut)", code=cut.code)
                        yield f"data: {json.dumps(body)}\n\n"
                    elif error is not None:
                        mapped = from_textpro_error(error) if isinstance(error, TextproError) else None
                        message = mapped.message if mapped else f"generation failed: {type(error).__name__}"
                        yield f"data: {json.dumps(error_body(500, message, code='generation_failed'))}\n\n"
                    else:
                        result: Answered = value.result()
                        yield chunk({}, result.finish_reason)
                        if include_usage:
                            body = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                                    "model": served.model_id, "choices": [], "usage": usage(result)}
                            yield f"data: {json.dumps(body)}\n\n"
                    break
                yield "data: [DONE]\n\n"
            finally:
                if not future.done():  # the client left before the answer ended: stop generating for it
                    job.cancel.cancel("disconnect")
                    future.cancel()

        return StreamingResponse(sse(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    def sse_chunk(completion_id: str, created: int, delta: dict, finish_reason: str | None = None, **extra) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": served.model_id,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    # ------------------------------------------------------------------ the LLM on an endpoint (--llm-endpoint)
    async def upstream(call):
        """An endpoint call whose failure is an APIError (502/503 in OpenAI's shape)."""
        from textpro.serve.remote import EndpointError

        try:
            return await call
        except EndpointError as exc:
            raise exc.api_error() from None

    async def remote_answer(job: ChatJob, prepared, completion_id: str, created: int, request: Request):
        # cancelled at the deadline or when the client leaves: the task is cancelled and the upstream request closed
        done = await outcome(asyncio.ensure_future(upstream(endpoint.complete(prepared, job.generation))),
                             job.cancel, request, settings.timeout_seconds)
        answer = done.text.strip()
        tokens = done.completion_tokens
        if tokens is None:
            tokens = len(served.pro.slm.tokenizer.encode(answer, add_special_tokens=False))
        finish = done.finish_reason if done.finish_reason in ("stop", "length") else "stop"
        return {"id": completion_id, "object": "chat.completion", "created": created, "model": served.model_id,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer, "refusal": None},
                             "logprobs": None, "finish_reason": finish}],
                "usage": {"prompt_tokens": prepared.prompt_tokens, "completion_tokens": tokens,
                          "total_tokens": prepared.prompt_tokens + tokens},
                "textpro": prepared.heard.readout}

    async def remote_stream(job: ChatJob, prepared, completion_id: str, created: int, include_usage: bool,
                            request: Request):
        from textpro.serve.remote import EndpointError, remaining

        # the upstream answer's status is known before ours: an endpoint failure is still a proper 502/503
        response = await outcome(asyncio.ensure_future(upstream(endpoint.open_stream(prepared, job.generation))),
                                 job.cancel, request, settings.timeout_seconds)

        async def sse():
            pieces = endpoint.pieces(response)
            text, tokens, finish = [], None, None
            try:
                yield sse_chunk(completion_id, created, {"role": "assistant", "content": ""},
                                textpro=prepared.heard.readout)
                try:
                    while True:
                        try:  # each read bounded by the request's deadline
                            piece, reason, count = await asyncio.wait_for(anext(pieces),
                                                                          remaining(job.cancel.deadline))
                        except StopAsyncIteration:
                            break
                        if piece:
                            if not text:
                                metrics.first_token(job)
                            text.append(piece)
                            yield sse_chunk(completion_id, created, {"content": piece})
                        finish = reason or finish
                        tokens = count if count is not None else tokens
                except TimeoutError:
                    job.cancel.cancel("timeout")
                    cut = cancelled_error(job.cancel, settings.timeout_seconds)
                    body = error_body(cut.status, f"{cut.message} (answer cut)", code=cut.code)
                    yield f"data: {json.dumps(body)}\n\n"
                except EndpointError as exc:
                    yield f"data: {json.dumps(error_body(exc.status, exc.message, code=exc.code))}\n\n"
                else:
                    yield sse_chunk(completion_id, created, {}, finish if finish in ("stop", "length") else "stop")
                    if include_usage:
                        if tokens is None:
                            tokens = len(served.pro.slm.tokenizer.encode("".join(text), add_special_tokens=False))
                        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                                "model": served.model_id, "choices": [],
                                "usage": {"prompt_tokens": prepared.prompt_tokens, "completion_tokens": tokens,
                                          "total_tokens": prepared.prompt_tokens + tokens}}
                        yield f"data: {json.dumps(body)}\n\n"
                yield "data: [DONE]\n\n"
            finally:  # the answer ended, timed out, or the client left: the upstream request is closed
                await pieces.aclose()
                await response.aclose()

        return StreamingResponse(sse(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    def usage(result: Answered) -> dict:
        return {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
                "total_tokens": result.prompt_tokens + result.completion_tokens}

    @app.post("/v1/audio/transcriptions", dependencies=[Depends(require_api_key)])
    async def transcriptions(request: Request):
        started = time.monotonic()
        # the form parsed here rather than by FastAPI, so that its fields and their sizes are bounded
        form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS,
                                  max_part_size=4 * settings.max_text_chars + 1024)
        params = transcription_params(form, settings.max_text_chars)
        check_model(params.model)
        response_format = params.response_format
        audio = await params.file.read(settings.max_upload_bytes + 1)
        if len(audio) > settings.max_upload_bytes:
            raise APIError(413, f"file: larger than the limit of {settings.max_upload_bytes} bytes", param="file",
                           code="audio_too_large")
        if not audio:
            raise APIError(400, "file: the upload is empty", param="file", code="invalid_audio")
        samples = await decode(audio, "file")
        heard: Heard = await run_job(TranscribeJob(samples, deadline_token(started), started), request)
        text = heard.transcript.text
        if response_format == "text":
            return PlainTextResponse(text + "\n")
        duration = round(float(heard.transcript.duration), 3)
        if response_format == "json":
            return {"text": text, "usage": {"type": "duration", "seconds": duration}}
        return JSONResponse({
            "task": "transcribe", "language": "english", "duration": duration, "text": text,
            "words": [{"word": w["text"], "start": w["start"], "end": w["end"]} for w in heard.readout["words"]],
            "segments": segments_of(heard.readout["words"]),
            "usage": {"type": "duration", "seconds": duration},
            "textpro": heard.readout,
        })

    return app
