"""`textpro serve`: the OpenAI-compatible API and the web page over one model, with uvicorn."""

from __future__ import annotations

import argparse
import logging

EPILOG = """examples:
  textpro serve                                   # the embedded default model (untrained base models until built)
  textpro serve --model runs/mini/slm --port 8080
  TEXTPRO_API_KEY=secret textpro serve --host 0.0.0.0
  textpro serve --int8                            # CPU: int8 LLM too (WhisperPro's decoder is int8 by default)
  textpro serve --int8 none                       # CPU: everything in float32
  textpro serve --model DIR --llm-endpoint http://gpu-host:8001   # the LLM on vLLM (--enable-prompt-embeds)
limits also come from the environment: TEXTPRO_MAX_UPLOAD_BYTES, TEXTPRO_MAX_AUDIO_SECONDS, TEXTPRO_MAX_QUEUE,
TEXTPRO_REQUEST_TIMEOUT, TEXTPRO_MAX_BATCH_SIZE, TEXTPRO_BATCH_WAIT_MS, TEXTPRO_MAX_NEW_TOKENS, TEXTPRO_MAX_TEXT_CHARS,
TEXTPRO_MAX_PROMPT_TOKENS, TEXTPRO_MAX_REQUEST_BYTES, TEXTPRO_SHUTDOWN_GRACE_SECONDS, TEXTPRO_CONTINUOUS_BATCHING,
TEXTPRO_INT8, TEXTPRO_LLM_ENDPOINT, TEXTPRO_LLM_ENDPOINT_MODEL, TEXTPRO_LLM_ENDPOINT_DTYPE,
TEXTPRO_LLM_ENDPOINT_API_KEY, TEXTPRO_API_KEY."""


# The server's limits: (flag, type, help); None means "the environment's value, else the default".
LIMIT_OPTIONS = [
    ("--max-upload-mb", float, "largest audio file accepted, MB (default 25; $TEXTPRO_MAX_UPLOAD_BYTES)"),
    ("--max-audio-seconds", float, "longest audio accepted (default 60; $TEXTPRO_MAX_AUDIO_SECONDS)"),
    ("--max-queue", int, "requests allowed to wait; more get 429 (default 64; $TEXTPRO_MAX_QUEUE)"),
    ("--timeout", float, "seconds per request, queueing included; then 504 (default 120; "
                         "$TEXTPRO_REQUEST_TIMEOUT)"),
    ("--max-batch-size", int, "requests run together; 1 turns batching off (default 8; $TEXTPRO_MAX_BATCH_SIZE)"),
    ("--batch-wait-ms", float, "how long an idle server waits for a batch to fill (default 50; "
                               "$TEXTPRO_BATCH_WAIT_MS)"),
    ("--max-new-tokens", int, "default and cap of max_tokens (default 256; $TEXTPRO_MAX_NEW_TOKENS)"),
    ("--max-text-chars", int, "characters of text beside the audio (default 8192; $TEXTPRO_MAX_TEXT_CHARS)"),
    ("--max-prompt-tokens", int, "prompt tokens, instruction and the clip's longest transcript (default 2048, and "
                                 "the model's context; $TEXTPRO_MAX_PROMPT_TOKENS)"),
    ("--max-request-mb", float, "largest request body, MB (default: from --max-upload-mb; "
                                "$TEXTPRO_MAX_REQUEST_BYTES)"),
    ("--shutdown-grace", float, "seconds in-flight requests get after SIGTERM before they are cancelled (default 5; "
                                "$TEXTPRO_SHUTDOWN_GRACE_SECONDS)"),
]


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("serve", help="OpenAI-compatible HTTP API (chat with audio, transcriptions, text "
                                 "completions) and a web page", description=__doc__, epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", metavar="DIR", default=None,
                        help="TextPro-SLM checkpoint directory (default: the embedded default if built, else the "
                             "untrained base models)")
    parser.add_argument("--whisperpro", metavar="DIR", default=None,
                        help="override the WhisperPro the checkpoint names (e.g. a downloaded qqjz/WhisperPro)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    for flag, kind, help_text in LIMIT_OPTIONS:  # each also read from the environment (ServeSettings.from_env)
        parser.add_argument(flag, type=kind, default=None, help=help_text)
    parser.add_argument("--continuous-batching", action="store_true", default=None,
                        help="requests join and leave the LLM batch at each decoding step instead of waiting for "
                             "the batch to end ($TEXTPRO_CONTINUOUS_BATCHING=1)")
    parser.add_argument("--int8", nargs="?", const="all", default=None, metavar="PARTS",
                        help="CPU: int8 dynamic quantization of the Linear layers of WhisperPro's decoder and of the "
                             "LLM; PARTS: all (the flag alone), none, or some of whisperpro,llm,lm_head. Without the "
                             "flag: whisperpro for the embedded default on CPU (98%% of answers identical to fp32 on "
                             "300 items, BENCHMARKS.md); "
                             "the LLM in int8 is faster but changes most answers; $TEXTPRO_INT8=1, =0 or =PARTS")
    parser.add_argument("--llm-endpoint", metavar="URL", default=None,
                        help="run the LLM on this OpenAI-compatible server (vLLM started with "
                             "--enable-prompt-embeds): textpro sends each prompt's embeddings to its /v1/completions "
                             "($TEXTPRO_LLM_ENDPOINT)")
    parser.add_argument("--llm-endpoint-model", metavar="NAME", default=None,
                        help="the model name the endpoint serves (default: the first it lists; "
                             "$TEXTPRO_LLM_ENDPOINT_MODEL)")
    parser.add_argument("--llm-endpoint-dtype", choices=("float32", "bfloat16", "float16"), default=None,
                        help="dtype of the embeddings sent (default float32; bfloat16 halves the payload; "
                             "$TEXTPRO_LLM_ENDPOINT_DTYPE). The endpoint's key: $TEXTPRO_LLM_ENDPOINT_API_KEY")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from textpro.serve.settings import ServeSettings

    # settings first: a bad limit fails before minutes of model loading
    settings = ServeSettings.from_env(
        max_upload_bytes=None if args.max_upload_mb is None else int(args.max_upload_mb * 1024 * 1024),
        max_audio_seconds=args.max_audio_seconds, max_queue=args.max_queue, timeout_seconds=args.timeout,
        max_batch_size=args.max_batch_size, batch_wait_ms=args.batch_wait_ms, max_new_tokens=args.max_new_tokens,
        max_text_chars=args.max_text_chars, max_prompt_tokens=args.max_prompt_tokens,
        max_request_bytes=None if args.max_request_mb is None else int(args.max_request_mb * 1024 * 1024),
        shutdown_grace_seconds=args.shutdown_grace, continuous_batching=args.continuous_batching, int8=args.int8,
        llm_endpoint=args.llm_endpoint, llm_endpoint_model=args.llm_endpoint_model,
        llm_endpoint_dtype=args.llm_endpoint_dtype)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log = logging.getLogger("textpro.serve")

    from textpro.console import quiet_libraries

    quiet_libraries()
    import uvicorn

    from textpro.serve.app import create_app
    from textpro.serve.engine import load_model

    log.info("loading model %s", args.model or "(default)")
    if settings.llm_endpoint:  # the LLM's weights stay on the endpoint: only its embedding table is loaded here
        from textpro.serve.remote import load_for_endpoint

        served = load_for_endpoint(args.model)
    else:
        served = load_model(args.model, whisperpro=args.whisperpro)
    from textpro.int8 import quantize_int8, resolve_int8

    # nothing asked: the embedded default's WhisperPro decoder on CPU
    parts = resolve_int8(settings.int8, served.pipeline, embedded_default=not (args.model or args.whisperpro))
    if settings.llm_endpoint:  # the local LLM only looks up embeddings: WhisperPro's decoder is all there is
        parts = tuple(p for p in parts if p == "whisperpro")
    if parts:
        quantize_int8(served.pipeline, parts)
        served.description += f" (int8: {', '.join(parts)})"
    if settings.llm_endpoint:
        log.info("the LLM runs on %s; textpro keeps WhisperPro, the projector and the embedding lookup",
                 settings.llm_endpoint)
    if not served.trained:
        log.warning("%s", served.description)
    log.info("model %s; API key %s; open http://%s:%d/", served.model_id,
             "required" if settings.api_key else "not required", args.host, args.port)
    # On SIGTERM the app stops taking requests, gives those in flight the grace period, then cancels them with a
    # 503 (serve/shutdown.py); uvicorn's own timeout, a little longer, only catches a handler that did not answer.
    uvicorn.run(create_app(served, settings), host=args.host, port=args.port, log_level="info",
                timeout_graceful_shutdown=settings.shutdown_grace_seconds + 2)
    return 0
