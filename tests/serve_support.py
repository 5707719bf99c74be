"""Shared by the serve tests: the real untrained models (loaded once per process), spoken clips, a live server."""

from __future__ import annotations

import base64
import io
import socket
import threading
import time
from contextlib import contextmanager
from functools import lru_cache

import soundfile as sf

QUESTION = "What is the capital of France?"


@lru_cache(maxsize=1)
def untrained_served():
    """Real Whisper tiny.en + SmolLM2-135M with a fresh projector, as `textpro serve` serves them by default."""
    from textpro.pipeline import TextPro
    from textpro.serve.engine import untrained_model

    return untrained_model(TextPro.untrained())


@lru_cache(maxsize=8)
def spoken(text: str = QUESTION, fmt: str = "WAV") -> bytes:
    """`text` spoken by piper, as the bytes of a `fmt` file. Piper's noise is switched off: its default random
    variation sometimes gives a clip that tiny.en transcribes in a loop, and tests want the same clip every run."""
    from textpro.data.synth import synthesize_piper

    samples, rate = synthesize_piper(text, noise=False)
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def audio_message(data: str, fmt: str = "wav", text: str | None = None) -> list[dict]:
    content = [{"type": "input_audio", "input_audio": {"data": data, "format": fmt}}]
    if text is not None:
        content.insert(0, {"type": "text", "text": text})
    return [{"role": "user", "content": content}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(app):
    """The app under a real uvicorn on a free port, in a thread; yields its base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
