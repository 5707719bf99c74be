"""Server limits and knobs: one dataclass, filled from flags, else environment variables, else defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

from textpro.errors import ConfigError
from textpro.int8 import int8_parts


def _flag(raw: str) -> bool:
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


_flag.__name__ = "boolean"


@dataclass
class ServeSettings:
    max_upload_bytes: int = 25 * 1024 * 1024  # largest audio file accepted (decoded from base64 or multipart)
    max_audio_seconds: float = 60.0  # longest audio accepted; over 30 s WhisperPro cuts it at pauses
    max_queue: int = 64  # requests waiting for the model; one more gets 429
    timeout_seconds: float = 120.0  # per request, from arrival to answer (waiting in the queue included) -> 504
    max_batch_size: int = 8  # requests run together in one WhisperPro batch and one LLM batch; 1 = batching off
    batch_wait_ms: float = 50.0  # how long the first request of a batch waits for others to join (10 ms was
    # too short: closed-loop clients at concurrency 4 then formed batches of ~2 and gained nothing, BENCHMARKS.md)
    max_new_tokens: int = 256  # default and upper bound of max_tokens per answer
    max_text_chars: int = 8192  # characters of text beside the audio (the instruction), checked before tokenizing
    max_prompt_tokens: int = 2048  # prompt tokens (template + instruction + longest transcript the clip allows);
    # the model's context window bounds it too. A 2048-token prefill of SmolLM2-135M takes ~15 s on 2 busy cores.
    max_request_bytes: int | None = None  # largest request body, checked before parsing; None: from max_upload_bytes
    shutdown_grace_seconds: float = 5.0  # on SIGTERM, in-flight requests get this long to finish, then are cancelled
    continuous_batching: bool = False  # requests join and leave the LLM batch at step boundaries (continuous.py)
    int8: str | None = None  # int8 dynamic quantization (textpro.int8), CPU only: "all" (WhisperPro's decoder and the
    # LLM), some of whisperpro,llm,lm_head, or "none"; None: the CPU default (WhisperPro's decoder, textpro.int8);
    # $TEXTPRO_INT8=1 means all, 0 none
    llm_endpoint: str | None = None  # an OpenAI-compatible Completions server taking prompt_embeds (vLLM); remote.py
    llm_endpoint_model: str | None = None  # the model name it serves (None: the first one it lists)
    llm_endpoint_dtype: str = "float32"  # dtype of the prompt embeddings sent (float32, bfloat16, float16)
    llm_endpoint_api_key: str | None = field(default=None, repr=False)  # sent as `Authorization: Bearer KEY`
    api_key: str | None = field(default=None, repr=False)  # when set, /v1/* needs `Authorization: Bearer KEY`

    # flag/field name -> environment variable that sets it when no flag does
    ENV = {
        "max_upload_bytes": "TEXTPRO_MAX_UPLOAD_BYTES",
        "max_audio_seconds": "TEXTPRO_MAX_AUDIO_SECONDS",
        "max_queue": "TEXTPRO_MAX_QUEUE",
        "timeout_seconds": "TEXTPRO_REQUEST_TIMEOUT",
        "max_batch_size": "TEXTPRO_MAX_BATCH_SIZE",
        "batch_wait_ms": "TEXTPRO_BATCH_WAIT_MS",
        "max_new_tokens": "TEXTPRO_MAX_NEW_TOKENS",
        "max_text_chars": "TEXTPRO_MAX_TEXT_CHARS",
        "max_prompt_tokens": "TEXTPRO_MAX_PROMPT_TOKENS",
        "max_request_bytes": "TEXTPRO_MAX_REQUEST_BYTES",
        "shutdown_grace_seconds": "TEXTPRO_SHUTDOWN_GRACE_SECONDS",
        "continuous_batching": "TEXTPRO_CONTINUOUS_BATCHING",
        "int8": "TEXTPRO_INT8",
        "llm_endpoint": "TEXTPRO_LLM_ENDPOINT",
        "llm_endpoint_model": "TEXTPRO_LLM_ENDPOINT_MODEL",
        "llm_endpoint_dtype": "TEXTPRO_LLM_ENDPOINT_DTYPE",
        "llm_endpoint_api_key": "TEXTPRO_LLM_ENDPOINT_API_KEY",
        "api_key": "TEXTPRO_API_KEY",
    }

    def __post_init__(self):
        checks = {
            "max_upload_bytes": self.max_upload_bytes >= 1,
            "max_audio_seconds": self.max_audio_seconds > 0,
            "max_queue": self.max_queue >= 1,
            "timeout_seconds": self.timeout_seconds > 0,
            "max_batch_size": self.max_batch_size >= 1,
            "batch_wait_ms": self.batch_wait_ms >= 0,
            "max_new_tokens": self.max_new_tokens >= 1,
            "max_text_chars": self.max_text_chars >= 1,
            "max_prompt_tokens": self.max_prompt_tokens >= 1,
            "max_request_bytes": self.max_request_bytes is None or self.max_request_bytes >= 1024,
            "shutdown_grace_seconds": self.shutdown_grace_seconds >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ConfigError(f"serve setting {name}={getattr(self, name)!r} is out of range")
        if self.api_key == "":
            self.api_key = None
        if self.int8 is not None:
            raw = str(self.int8).strip().lower()
            if self.int8 is True or raw in ("1", "true", "yes", "on"):
                self.int8 = "all"
            elif self.int8 is False or raw in ("0", "false", "no", "off", "none"):
                self.int8 = "none"
            elif raw == "":
                self.int8 = None
            else:
                int8_parts(self.int8)  # ConfigError for an unknown part
        if self.llm_endpoint == "":
            self.llm_endpoint = None
        if self.llm_endpoint is not None and not self.llm_endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"serve setting llm_endpoint={self.llm_endpoint!r} is not an http(s) URL")
        if self.llm_endpoint_dtype not in ("float32", "bfloat16", "float16"):
            raise ConfigError(f"serve setting llm_endpoint_dtype={self.llm_endpoint_dtype!r} is not one of "
                              "float32, bfloat16, float16")
        if self.llm_endpoint is not None and self.continuous_batching:
            raise ConfigError("--continuous-batching and --llm-endpoint do not go together: with an endpoint the "
                              "LLM's batching is the endpoint's (vLLM batches continuously)")

    @classmethod
    def from_env(cls, environ=None, **overrides) -> ServeSettings:
        """Values from `overrides` (None = not given), else from the environment, else the defaults."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            given = overrides.get(f.name)
            if given is not None:
                values[f.name] = given
                continue
            raw = environ.get(cls.ENV[f.name])
            if raw in (None, ""):
                continue
            kind = {"int": int, "int | None": int, "float": float, "bool": _flag}.get(str(f.type), str)
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise ConfigError(f"{cls.ENV[f.name]}={raw!r} is not a valid {kind.__name__}") from None
        return cls(**values)

    @property
    def max_body_bytes(self) -> int:
        """Largest request body: max_request_bytes if set, else the audio as base64 (4/3 of its bytes) plus room for
        the rest of the JSON."""
        if self.max_request_bytes is not None:
            return self.max_request_bytes
        return self.max_upload_bytes * 4 // 3 + 1024 * 1024
