"""POST /v1/completions: text in, text out, from the served model's LLM alone (no audio, no chat template: the
prompt is continued exactly as sent, as vLLM's completions does). `textpro distill --teacher-endpoint` sends
prompts rendered by our chat template here (slm/remote_teacher.py); the model thread runs them beside the chat
requests (text_completion.py). One prompt, one answer, not streamed."""

from __future__ import annotations

import time
import uuid

from fastapi import APIRouter, Depends, Request

from textpro.serve.errors import APIError
from textpro.serve.handlers import check_model, deadline_token, require_api_key, run_job, token_usage
from textpro.serve.schemas import CompletionRequest, generation_options, text_prompt
from textpro.serve.text_completion import Completion, CompletionJob

router = APIRouter()


@router.post("/v1/completions", dependencies=[Depends(require_api_key)])
async def completions(body: CompletionRequest, request: Request):
    started = time.monotonic()
    state = request.app.state
    check_model(state, body.model)
    refuse_unserved(state, body)
    generation = generation_options(body, state.settings.max_new_tokens)
    prompt, stop = text_prompt(body, state.settings.max_text_chars)
    ids = state.budget.prompt_ids(prompt)
    state.budget.check_count(len(ids), generation.max_new_tokens, param="prompt")  # refused before the queue
    done: Completion = await run_job(CompletionJob(ids, generation, stop, deadline_token(state, started), started),
                                     request)
    return {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
            "model": state.served.model_id,
            "choices": [{"index": 0, "text": done.text, "logprobs": None, "finish_reason": done.finish_reason}],
            "usage": token_usage(done.prompt_tokens, len(done.tokens))}


def refuse_unserved(state, body: CompletionRequest) -> None:
    """400 for what this server does not do with text completions: a stream, or any with --llm-endpoint."""
    if state.endpoint is not None:  # the LLM's weights are on the endpoint, which answers text completions itself
        raise APIError(400, f"/v1/completions: this server's LLM runs on {state.endpoint.base}; send text "
                       "completions there", code="unsupported_value")
    if body.stream:
        raise APIError(400, "stream: /v1/completions answers whole (stream: false)", param="stream",
                       code="unsupported_value")
