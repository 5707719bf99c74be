"""POST /v1/chat/completions: a chat with an input_audio part, answered whole or streamed as SSE chunks, by the
local model or (--llm-endpoint) by an LLM server fed the prompt embeddings made here."""

from __future__ import annotations

import asyncio
import time
import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from textpro.errors import TextproError
from textpro.serve.cancel import Cancelled
from textpro.serve.engine import ChatAnswer, ChatJob, StreamChatJob, Transcribed
from textpro.serve.errors import APIError, error_body, from_textpro_error
from textpro.serve.handlers import (
    SSE_HEADERS,
    chat_completion,
    check_model,
    deadline_token,
    decode,
    require_api_key,
    run_job,
    sse_chunk,
    sse_data,
    submit,
    token_usage,
    usage,
    usage_chunk,
)
from textpro.serve.schemas import ChatCompletionRequest, generation_options, spoken_turn
from textpro.serve.waiting import cancelled_error, outcome

router = APIRouter()


@router.post("/v1/chat/completions", dependencies=[Depends(require_api_key)])
async def chat_completions(body: ChatCompletionRequest, request: Request):
    started = time.monotonic()
    state = request.app.state
    settings = state.settings
    check_model(state, body.model)
    generation = generation_options(body, settings.max_new_tokens)
    turn = spoken_turn(body, settings.max_upload_bytes, settings.max_text_chars)
    samples = await decode(state, turn.audio, turn.audio_param)
    state.budget.check(samples, turn.prompt, generation.max_new_tokens)  # before the queue: what cannot fit is refused
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    if state.endpoint is not None:
        job = ChatJob(samples, turn.prompt, generation, deadline_token(state, started), started)
        prepared = await run_job(job, request)  # transcript and prompt embeddings, made on the model thread
        if body.stream:
            return await remote_stream(job, prepared, completion_id, created, include_usage, request)
        return await remote_answer(job, prepared, completion_id, created, request)
    if body.stream:
        job = StreamChatJob(samples, turn.prompt, generation, deadline_token(state, started), started)
        return await stream_chat(job, completion_id, created, include_usage, request)
    job = ChatJob(samples, turn.prompt, generation, deadline_token(state, started), started)
    result: ChatAnswer = await run_job(job, request)
    return chat_completion(state.served.model_id, completion_id, created, result.answer, result.finish_reason,
                           usage(result), result.heard.analysis)


# ------------------------------------------------------------------------------------ streamed by the local model
async def stream_chat(job: StreamChatJob, completion_id: str, created: int, include_usage: bool, request: Request):
    state = request.app.state
    loop = asyncio.get_running_loop()
    events: asyncio.Queue = asyncio.Queue()
    job.emit = lambda kind, value: loop.call_soon_threadsafe(events.put_nowait, (kind, value))
    future = submit(state, job, solo=not state.settings.continuous_batching)  # continuous batches stream any row
    future.add_done_callback(lambda f: events.put_nowait(("done", f)))
    heard = await first_event_heard(job, future, events, request)
    return StreamingResponse(local_events(state, job, future, events, heard, completion_id, created, include_usage),
                             media_type="text/event-stream", headers=SSE_HEADERS)


async def first_event_heard(job: StreamChatJob, future: asyncio.Future, events: asyncio.Queue,
                            request: Request) -> Transcribed:
    """Wait for the transcript before answering 200: a timeout or a bad clip still gets a proper status."""
    timeout_seconds = request.app.state.settings.timeout_seconds
    try:
        kind, value = await outcome(asyncio.ensure_future(events.get()), job.cancel, request, timeout_seconds)
    finally:
        if job.cancel.cancelled:
            future.cancel()
    if kind == "done":
        await outcome(value, job.cancel, None, timeout_seconds)  # raises the job's error
        raise APIError(500, "the answer ended before its transcript", code="internal_error")
    return value


async def local_events(state, job: StreamChatJob, future: asyncio.Future, events: asyncio.Queue, heard: Transcribed,
                       completion_id: str, created: int, include_usage: bool):
    """The SSE body: what was heard, the answer's pieces as the model thread emits them, then its end."""
    model_id = state.served.model_id
    try:
        # the first chunk carries what was heard, so a page can show it while the answer is generated
        yield sse_chunk(model_id, completion_id, created, {"role": "assistant", "content": ""},
                        textpro=heard.analysis)
        while True:
            kind, value = await events.get()
            if kind == "text":
                if value:
                    yield sse_chunk(model_id, completion_id, created, {"content": value})
                continue
            for event in local_ending(state, job, value, completion_id, created, include_usage):
                yield event
            break
        yield "data: [DONE]\n\n"
    finally:
        if not future.done():  # the client left before the answer ended: stop generating for it
            job.cancel.cancel("disconnect")
            future.cancel()


def local_ending(state, job: StreamChatJob, done: asyncio.Future, completion_id: str, created: int,
                 include_usage: bool) -> list[str]:
    """The events that end a local stream: a cut or failure as an error event, else the finish (and usage)."""
    error = Cancelled() if done.cancelled() else done.exception()
    if isinstance(error, Cancelled) or job.cancel.cancelled:
        cut = cancelled_error(job.cancel, state.settings.timeout_seconds)
        return [sse_data(error_body(cut.status, f"{cut.message} (answer cut)", code=cut.code))]
    if error is not None:
        mapped = from_textpro_error(error) if isinstance(error, TextproError) else None
        message = mapped.message if mapped else f"generation failed: {type(error).__name__}"
        return [sse_data(error_body(500, message, code='generation_failed'))]
    result: ChatAnswer = done.result()
    model_id = state.served.model_id
    events = [sse_chunk(model_id, completion_id, created, {}, result.finish_reason)]
    if include_usage:
        events.append(usage_chunk(model_id, completion_id, created, usage(result)))
    return events


# ------------------------------------------------------------------------ the LLM on an endpoint (--llm-endpoint)
async def upstream(call):
    """An endpoint call whose failure is an APIError (502/503 in OpenAI's shape)."""
    from textpro.serve.remote import EndpointError

    try:
        return await call
    except EndpointError as exc:
        raise exc.api_error() from None


def count_tokens(state, text: str) -> int:
    return len(state.served.pipeline.slm.tokenizer.encode(text, add_special_tokens=False))


async def remote_answer(job: ChatJob, prepared, completion_id: str, created: int, request: Request):
    state = request.app.state
    # cancelled at the deadline or when the client leaves: the task is cancelled and the upstream request closed
    done = await outcome(asyncio.ensure_future(upstream(state.endpoint.complete(prepared, job.generation))),
                         job.cancel, request, state.settings.timeout_seconds)
    answer = done.text.strip()
    tokens = done.completion_tokens
    if tokens is None:
        tokens = count_tokens(state, answer)
    finish = done.finish_reason if done.finish_reason in ("stop", "length") else "stop"
    return chat_completion(state.served.model_id, completion_id, created, answer, finish,
                           token_usage(prepared.prompt_tokens, tokens), prepared.heard.analysis)


async def remote_stream(job: ChatJob, prepared, completion_id: str, created: int, include_usage: bool,
                        request: Request):
    state = request.app.state
    # the upstream answer's status is known before ours: an endpoint failure is still a proper 502/503
    response = await outcome(asyncio.ensure_future(upstream(state.endpoint.open_stream(prepared, job.generation))),
                             job.cancel, request, state.settings.timeout_seconds)
    return StreamingResponse(remote_events(state, job, prepared, response, completion_id, created, include_usage),
                             media_type="text/event-stream", headers=SSE_HEADERS)


async def remote_events(state, job: ChatJob, prepared, response, completion_id: str, created: int,
                        include_usage: bool):
    """The SSE body relayed from the endpoint's stream, each read bounded by the request's deadline."""
    from textpro.serve.remote import EndpointError, remaining

    model_id = state.served.model_id
    pieces = state.endpoint.pieces(response)
    text, tokens, finish = [], None, None
    try:
        yield sse_chunk(model_id, completion_id, created, {"role": "assistant", "content": ""},
                        textpro=prepared.heard.analysis)
        try:
            while True:
                try:  # each read bounded by the request's deadline
                    piece, reason, count = await asyncio.wait_for(anext(pieces), remaining(job.cancel.deadline))
                except StopAsyncIteration:
                    break
                if piece:
                    if not text:
                        state.metrics.first_token(job)
                    text.append(piece)
                    yield sse_chunk(model_id, completion_id, created, {"content": piece})
                finish = reason or finish
                tokens = count if count is not None else tokens
        except TimeoutError:
            job.cancel.cancel("timeout")
            cut = cancelled_error(job.cancel, state.settings.timeout_seconds)
            yield sse_data(error_body(cut.status, f"{cut.message} (answer cut)", code=cut.code))
        except EndpointError as exc:
            yield sse_data(error_body(exc.status, exc.message, code=exc.code))
        else:
            yield sse_chunk(model_id, completion_id, created, {}, finish if finish in ("stop", "length") else "stop")
            if include_usage:
                if tokens is None:
                    tokens = count_tokens(state, "".join(text))
                yield usage_chunk(model_id, completion_id, created, token_usage(prepared.prompt_tokens, tokens))
        yield "data: [DONE]\n\n"
    finally:  # the answer ended, timed out, or the client left: the upstream request is closed
        await pieces.aclose()
        await response.aclose()
