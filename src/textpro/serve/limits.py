"""Bounds checked before a request reaches the queue: the body size (before anything reads the body into memory),
the text's characters (before tokenizing) and the prompt's tokens (before any model work).

The body limit is pure ASGI rather than BaseHTTPMiddleware, so streamed responses pass through untouched.
"""

from __future__ import annotations

import json
import math

from textpro.serve.asgi import HTTPMiddleware
from textpro.serve.errors import APIError, error_body


class BodySizeLimit(HTTPMiddleware):
    def __init__(self, app, max_bytes: int):
        super().__init__(app)
        self.max_bytes = max_bytes

    async def http(self, scope, receive, send):
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._too_large(send)

        seen = 0

        async def counted_receive():
            # a chunked body has no Content-Length: count what arrives and stop it at the limit
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise APIError(413, self._message(), code="request_too_large")
            return message

        await self.app(scope, counted_receive, send)

    def _message(self) -> str:
        return f"request body larger than {self.max_bytes} bytes"

    async def _too_large(self, send):
        body = json.dumps(error_body(413, self._message(), code="request_too_large")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


# ------------------------------------------------------------------------------------------------ prompt budget
LLM_TOKENS_PER_WHISPER_TOKEN = 2  # both are byte-level BPEs over the same text; English runs ~1.1, 2 is a margin
# (the engine checks the exact count after transcription, so an odd transcript cannot slip past this estimate)


def context_length_exceeded(message: str, param: str | None = "messages") -> APIError:
    return APIError(400, message, param=param, code="context_length_exceeded")


def check_text_chars(text: str | None, limit: int, param: str) -> None:
    """Before tokenizing: a text too long to fit is refused by its length alone (tokenizing 400,000 characters is
    itself work the server should not do for a request it will refuse)."""
    if text is not None and len(text) > limit:
        raise context_length_exceeded(f"{param}: {len(text)} characters of text; this server accepts at most {limit}",
                                      param)


def context_window(llm) -> int | None:
    """The LLM's maximum positions (None when its config does not say)."""
    return getattr(getattr(llm, "config", None), "max_position_embeddings", None)


class PromptBudget:
    """Counts a chat request's prompt tokens before it is queued: the chat template with its instruction, plus the
    most LLM positions the clip's transcript can take (WhisperPro emits at most MAX_TOKENS_PER_SECOND per second
    of each ≤ 30 s segment). What cannot fit the context window with its max_tokens, or exceeds max_prompt_tokens,
    is refused with OpenAI's context_length_exceeded before any model work. A text completion's prompt is counted
    exactly (`prompt_ids`)."""

    def __init__(self, pipeline, max_prompt_tokens: int):
        import copy

        from textpro.slm.inputs import InputBuilder

        slm = pipeline.slm
        # our own tokenizer: a fast tokenizer is not safe to share with the model thread, which encodes at once
        self.builder = InputBuilder(copy.deepcopy(slm.tokenizer), slm.config)
        self.config = slm.config
        self.transcriber = pipeline.transcriber
        self.context = context_window(slm.llm)
        self.max_prompt_tokens = max_prompt_tokens

    def limit(self, max_new_tokens: int) -> int:
        """The most prompt tokens a request asking for max_new_tokens may have."""
        room = self.max_prompt_tokens
        if self.context is not None:
            room = min(room, self.context - max_new_tokens)
        return room

    def template_tokens(self, instruction: str | None) -> int:
        before, after, _, _ = self.builder.template(instruction)
        return len(before) + len(after)

    def prompt_ids(self, text: str) -> list[int]:
        """A text completion's prompt as the served LLM reads it: tokenized with the tokenizer's own special tokens
        (a BOS where it adds one), as vLLM's completions tokenizes a prompt."""
        return self.builder.tokenizer(text).input_ids

    def speech_positions(self, samples) -> int:
        """The most LLM input positions this clip's transcript and prosody placeholders can take."""
        from textpro.audio import SAMPLE_RATE
        from textpro.whisperpro.segment import split_at_pauses
        from textpro.whisperpro.transcribe import MAX_TOKENS_PER_SECOND

        seconds = len(samples) / SAMPLE_RATE
        if self.config.audio_input == "encoder_baseline":  # one position per pooled 20 ms encoder frame
            return math.ceil(seconds * 50 / self.config.encoder_pool) + 1
        cap = self.transcriber.max_new_tokens
        whisper = sum(min(cap, int(MAX_TOKENS_PER_SECOND * (end - start) / SAMPLE_RATE) + 16)
                      for start, end in split_at_pauses(samples))
        text = whisper * LLM_TOKENS_PER_WHISPER_TOKEN
        placeholders = 1 if self.config.injection == "global" else math.ceil(text / self.config.interleave_ratio)
        return text + placeholders

    def check(self, samples, instruction: str | None, max_new_tokens: int) -> int:
        """The prompt's token bound, or context_length_exceeded."""
        tokens = self.template_tokens(instruction) + self.speech_positions(samples)
        self.check_count(tokens, max_new_tokens, estimated=True)
        return tokens

    def check_count(self, tokens: int, max_new_tokens: int, estimated: bool = False, param: str = "messages") -> None:
        error = self.overflow(tokens, max_new_tokens, estimated, param)
        if error is not None:
            raise error

    def overflow(self, tokens: int, max_new_tokens: int, estimated: bool = False,
                 param: str = "messages") -> APIError | None:
        """context_length_exceeded for a prompt of `tokens` that does not fit, else None. param: where the prompt
        is in the request (a chat's messages, a text completion's prompt)."""
        if tokens <= self.limit(max_new_tokens):
            return None
        what = "up to " if estimated else ""
        if self.context is not None and tokens + max_new_tokens > self.context:
            return context_length_exceeded(
                f"This model's maximum context length is {self.context} tokens. However, you requested {what}"
                f"{tokens + max_new_tokens} tokens ({what}{tokens} in the {param}, {max_new_tokens} in the "
                f"completion). Please reduce the length of the {param} or completion.", param)
        if param == "prompt":
            return context_length_exceeded(f"the prompt takes {tokens} tokens; this server accepts at most "
                                           f"{self.max_prompt_tokens}. Please shorten the prompt.", param)
        return context_length_exceeded(
            f"the prompt takes {what}{tokens} tokens (instruction plus the longest transcript this clip can give); "
            f"this server accepts at most {self.max_prompt_tokens}. Please shorten the text or the audio.")
