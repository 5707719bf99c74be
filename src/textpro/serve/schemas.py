"""Request bodies of the OpenAI-compatible API, how a chat request becomes one spoken turn, and a text completion
request one prompt.

Only what the model can honour is accepted: one answer (n = 1), the last user turn holding the audio. Unknown extra
fields (user, seed, modalities, ...) are ignored, as OpenAI-compatible servers commonly do.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from textpro.serve.errors import APIError
from textpro.serve.limits import check_text_chars

AUDIO_FORMATS = ("wav", "mp3", "flac", "ogg")  # what libsndfile decodes; the page converts recordings to wav


class InputAudio(BaseModel):
    data: str  # base64 of the audio file's bytes
    format: str


class ContentPart(BaseModel):
    """One part of a message's content. The type is checked in `spoken_turn`, which can say what it expected."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None
    input_audio: InputAudio | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class SamplingRequest(BaseModel):
    """What chat and text completion requests share: the model, streaming and the decoding options."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None  # None: the served model (OpenAI requires it; textpro's own eval client may omit it)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    n: int = 1

    def asked_tokens(self) -> int | None:
        return self.max_tokens


class ChatCompletionRequest(SamplingRequest):
    messages: list[ChatMessage] = Field(min_length=1)
    stream_options: StreamOptions | None = None
    max_completion_tokens: int | None = Field(default=None, ge=1)

    def asked_tokens(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens


MAX_STOPS = 4  # OpenAI's limit on stop sequences


class CompletionRequest(SamplingRequest):
    """POST /v1/completions. The options that would change the answer's shape or its decoding beyond temperature and
    top_p are declared so that asking for them is refused (`text_prompt`) rather than silently ignored."""

    prompt: str | list[str]
    stop: str | list[str] | None = None
    echo: bool = False
    logprobs: int | None = None
    suffix: str | None = None
    best_of: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logit_bias: dict | None = None


@dataclass
class SpokenTurn:
    """What the model answers: the audio file's bytes and the text beside it (the instruction, or None)."""

    audio: bytes
    audio_param: str  # where the audio was in the request, for error messages
    prompt: str | None


@dataclass
class Generation:
    """Decoding options; requests with equal options can share one LLM batch."""

    max_new_tokens: int
    do_sample: bool
    temperature: float
    top_p: float

    def key(self) -> tuple:
        return (self.max_new_tokens, self.do_sample, self.temperature, self.top_p)

    def kwargs(self) -> dict:
        return {"max_new_tokens": self.max_new_tokens, "do_sample": self.do_sample,
                "temperature": self.temperature, "top_p": self.top_p}


def decode_base64_audio(data: str, param: str, max_bytes: int) -> bytes:
    if data.startswith("data:"):  # a data URL (data:audio/wav;base64,....) is common from browsers
        data = data.partition(",")[2]
    if len(data) > max_bytes * 4 // 3 + 4:
        raise APIError(413, f"{param}: audio is larger than the limit of {max_bytes} bytes", param=param,
                       code="audio_too_large")
    try:
        audio = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise APIError(400, f"{param}: not valid base64", param=param, code="invalid_base64") from None
    if not audio:
        raise APIError(400, f"{param}: the audio is empty", param=param, code="invalid_audio")
    return audio


def spoken_turn(request: ChatCompletionRequest, max_bytes: int, max_text_chars: int) -> SpokenTurn:
    """The last user message: its input_audio part (exactly one) and its text parts joined as the instruction
    (at most max_text_chars). System messages and earlier turns are not part of the model's input (the SLM answers
    one spoken turn)."""
    users = [i for i, m in enumerate(request.messages) if m.role == "user"]
    if not users:
        raise APIError(400, "messages: no user message", param="messages", code="invalid_request")
    index = users[-1]
    content = request.messages[index].content
    if not isinstance(content, list):
        raise APIError(400, f"messages[{index}].content: the user turn needs an input_audio part "
                       "(this model answers spoken questions)", param=f"messages[{index}].content",
                       code="missing_audio")
    texts, audio, audio_param = [], None, ""
    for j, part in enumerate(content):
        param = f"messages[{index}].content[{j}]"
        if part.type == "text":
            if part.text is None:
                raise APIError(400, f"{param}.text is missing", param=f"{param}.text", code="invalid_request")
            texts.append(part.text)
        elif part.type == "input_audio":
            if part.input_audio is None:
                raise APIError(400, f"{param}.input_audio is missing", param=f"{param}.input_audio",
                               code="invalid_request")
            if audio is not None:
                raise APIError(400, f"{param}: one input_audio part per request", param=param,
                               code="invalid_request")
            fmt = part.input_audio.format.lower()
            if fmt not in AUDIO_FORMATS:
                raise APIError(400, f"{param}.input_audio.format {part.input_audio.format!r} is not supported "
                               f"(use one of {', '.join(AUDIO_FORMATS)})", param=f"{param}.input_audio.format",
                               code="unsupported_format")
            audio_param = f"{param}.input_audio.data"
            audio = decode_base64_audio(part.input_audio.data, audio_param, max_bytes)
        else:
            raise APIError(400, f"{param}: content part type {part.type!r} is not supported (text, input_audio)",
                           param=f"{param}.type", code="unsupported_content")
    if audio is None:
        raise APIError(400, f"messages[{index}].content: no input_audio part", param=f"messages[{index}].content",
                       code="missing_audio")
    prompt = "\n".join(t for t in texts if t.strip()) or None
    check_text_chars(prompt, max_text_chars, f"messages[{index}].content")
    return SpokenTurn(audio, audio_param, prompt)


def text_prompt(request: CompletionRequest, max_text_chars: int) -> tuple[str, tuple[str, ...]]:
    """(prompt, stop strings) of a text completion request: one prompt of at most max_text_chars characters."""
    asks = {"echo": request.echo, "logprobs": request.logprobs is not None, "suffix": bool(request.suffix),
            "best_of": request.best_of not in (None, 1), "frequency_penalty": bool(request.frequency_penalty),
            "presence_penalty": bool(request.presence_penalty), "logit_bias": bool(request.logit_bias)}
    for name, asked in asks.items():
        if asked:
            raise APIError(400, f"{name}: not supported here (one completion, greedy or sampled with temperature "
                           "and top_p)", param=name, code="unsupported_value")
    prompt = request.prompt
    if isinstance(prompt, list):
        if len(prompt) != 1:
            raise APIError(400, f"prompt: one prompt per request, got {len(prompt)}", param="prompt",
                           code="unsupported_value")
        prompt = prompt[0]
    if not prompt:
        raise APIError(400, "prompt: the prompt is empty", param="prompt", code="invalid_request")
    check_text_chars(prompt, max_text_chars, "prompt")
    stops = [request.stop] if isinstance(request.stop, str) else list(request.stop or [])
    if len(stops) > MAX_STOPS or not all(stops) or sum(map(len, stops)) > max_text_chars:
        raise APIError(400, f"stop: up to {MAX_STOPS} non-empty strings", param="stop", code="invalid_request")
    return prompt, tuple(stops)


def generation_options(request: SamplingRequest, max_new_tokens: int) -> Generation:
    """Greedy unless a temperature above 0 is asked for (deterministic answers are what an eval wants)."""
    if request.n != 1:
        raise APIError(400, "n: only n=1 is supported", param="n", code="unsupported_value")
    asked = request.asked_tokens() or max_new_tokens
    temperature = request.temperature or 0.0
    return Generation(max_new_tokens=min(asked, max_new_tokens), do_sample=temperature > 0,
                      temperature=temperature if temperature > 0 else 1.0, top_p=request.top_p or 1.0)
