"""The routes besides chat: the web page, /health, /v1/models and POST /v1/audio/transcriptions."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse

from textpro.serve.engine import Transcribed, TranscribeJob
from textpro.serve.errors import APIError
from textpro.serve.handlers import check_model, deadline_token, decode, model_card, require_api_key, run_job
from textpro.serve.transcription import MAX_FORM_FIELDS, segments_of, transcription_params

STATIC = Path(__file__).resolve().parent / "static"

router = APIRouter()


@router.get("/", include_in_schema=False)
async def page():
    return FileResponse(STATIC / "index.html")


@router.get("/health")
async def health(request: Request):
    state = request.app.state
    served, settings, batcher, engine, endpoint = (state.served, state.settings, state.batcher, state.engine,
                                                   state.endpoint)
    return {"status": "ok", "model": served.model_id, "trained": served.trained,
            "description": served.description, "waiting": batcher.waiting, "busy": batcher.busy,
            "llm_endpoint": endpoint.base if endpoint is not None else None,
            "batching": {"max_batch_size": settings.max_batch_size, "wait_ms": settings.batch_wait_ms,
                         "batches_run": engine.batches_run, "largest_batch": engine.largest_batch}}


@router.get("/v1/models", dependencies=[Depends(require_api_key)])
async def models(request: Request):
    return {"object": "list", "data": [model_card(request.app.state)]}


@router.get("/v1/models/{model_id}", dependencies=[Depends(require_api_key)])
async def model(model_id: str, request: Request):
    check_model(request.app.state, model_id)
    return model_card(request.app.state)


transcription_router = APIRouter()  # included after chat's, as the routes were declared before


@transcription_router.post("/v1/audio/transcriptions", dependencies=[Depends(require_api_key)])
async def transcriptions(request: Request):
    started = time.monotonic()
    state = request.app.state
    settings = state.settings
    # the form parsed here rather than by FastAPI, so that its fields and their sizes are bounded
    form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS,
                              max_part_size=4 * settings.max_text_chars + 1024)
    params = transcription_params(form, settings.max_text_chars)
    check_model(state, params.model)
    audio = await params.file.read(settings.max_upload_bytes + 1)
    if len(audio) > settings.max_upload_bytes:
        raise APIError(413, f"file: larger than the limit of {settings.max_upload_bytes} bytes", param="file",
                       code="audio_too_large")
    if not audio:
        raise APIError(400, "file: the upload is empty", param="file", code="invalid_audio")
    samples = await decode(state, audio, "file")
    heard: Transcribed = await run_job(TranscribeJob(samples, deadline_token(state, started), started), request)
    return transcription_response(heard, params.response_format)


def transcription_response(heard: Transcribed, response_format: str):
    """OpenAI's three formats: text, json, verbose_json (words, segments, and what textpro heard)."""
    text = heard.transcript.text
    if response_format == "text":
        return PlainTextResponse(text + "\n")
    duration = round(float(heard.transcript.duration), 3)
    if response_format == "json":
        return {"text": text, "usage": {"type": "duration", "seconds": duration}}
    return JSONResponse({
        "task": "transcribe", "language": "english", "duration": duration, "text": text,
        "words": [{"word": w["text"], "start": w["start"], "end": w["end"]} for w in heard.analysis["words"]],
        "segments": segments_of(heard.analysis["words"]),
        "usage": {"type": "duration", "seconds": duration},
        "textpro": heard.analysis,
    })
