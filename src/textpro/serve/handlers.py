"""What every route handler shares: the app's state (set by app.create_app), the API-key check, the model check,
decoding an upload, queueing a job, and the OpenAI-shaped pieces of an answer (usage, a stream's SSE chunk)."""

from __future__ import annotations

import asyncio
import json
import secrets

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from textpro.audio import load_audio
from textpro.errors import TextproError
from textpro.serve.batching import QueueFull, ShuttingDown
from textpro.serve.cancel import CancelToken
from textpro.serve.engine import ChatAnswer
from textpro.serve.errors import APIError, from_textpro_error
from textpro.serve.waiting import outcome, shutting_down

MODEL_ALIASES = ("textpro",)  # accepted in `model` besides the served id
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def require_api_key(request: Request) -> None:
    """The dependency of every /v1 route: with --api-key set, `Authorization: Bearer <key>` or 401."""
    api_key = request.app.state.settings.api_key
    if api_key is None:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), api_key):
        raise APIError(401, "missing or wrong API key: send `Authorization: Bearer <key>`",
                       code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})


def check_model(state: State, name: str | None) -> None:
    served = state.served
    if name is not None and name not in (served.model_id, *MODEL_ALIASES):
        raise APIError(404, f"model {name!r} does not exist here; this server serves {served.model_id!r}",
                       param="model", code="model_not_found")


def model_card(state: State) -> dict:
    served = state.served
    return {"id": served.model_id, "object": "model", "created": state.started_at, "owned_by": "textpro",
            "trained": served.trained, "description": served.description}


async def decode(state: State, audio: bytes, param: str):
    try:
        return await run_in_threadpool(load_audio, audio, max_seconds=state.settings.max_audio_seconds, name=param)
    except TextproError as exc:
        raise from_textpro_error(exc, param) from None


def deadline_token(state: State, started: float) -> CancelToken:
    return CancelToken(deadline=started + state.settings.timeout_seconds)


def submit(state: State, job, solo: bool = False) -> asyncio.Future:
    try:
        return state.batcher.submit(job, solo=solo)
    except QueueFull:
        raise APIError(429, f"server busy: {state.settings.max_queue} requests already waiting; retry shortly",
                       code="queue_full", headers={"Retry-After": "1"}) from None
    except ShuttingDown:
        raise shutting_down() from None


async def run_job(job, request: Request):
    """Queue a job and wait for its result until the request's deadline or its client leaving."""
    state = request.app.state
    return await outcome(submit(state, job), job.cancel, request, state.settings.timeout_seconds)


def usage(result: ChatAnswer) -> dict:
    return token_usage(result.prompt_tokens, result.completion_tokens)


def token_usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def sse_chunk(model_id: str, completion_id: str, created: int, delta: dict, finish_reason: str | None = None,
              **extra) -> str:
    body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model_id,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def sse_data(body: dict) -> str:
    """An SSE event of a JSON body other than a delta chunk (an error, the usage chunk): ASCII-escaped JSON."""
    return f"data: {json.dumps(body)}\n\n"


def usage_chunk(model_id: str, completion_id: str, created: int, usage: dict) -> str:
    return sse_data({"id": completion_id, "object": "chat.completion.chunk", "created": created,
                     "model": model_id, "choices": [], "usage": usage})


def chat_completion(model_id: str, completion_id: str, created: int, answer: str, finish_reason: str,
                    usage: dict, analysis: dict) -> dict:
    return {"id": completion_id, "object": "chat.completion", "created": created, "model": model_id,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer, "refusal": None},
                         "logprobs": None, "finish_reason": finish_reason}],
            "usage": usage, "textpro": analysis}

