"""Scale-out on vLLM (`textpro serve --llm-endpoint URL`; docs/architecture.md, serve/).

textpro keeps WhisperPro, the prosody projector and the embedding lookup; the LLM runs on a vLLM server started with
`--enable-prompt-embeds`, which gets each finished prompt as embeddings through its documented Completions-API field
`prompt_embeds`: the (L, d_llm) tensor of `TextProSLM.embed` for the templated prompt (vLLM applies no chat template
to prompt_embeds on /v1/completions, and ours is already in the embeddings), written with `torch.save` and
base64-encoded (vLLM's `tensor2base64`). The LLM side then gets vLLM's continuous batching and tensor parallelism.

    model thread (batched):  audio -> WhisperPro -> SpeechTokens -> prompt ids -> embeddings (placeholders replaced
                             by projected prosody) -> base64(torch.save(tensor))          = Prepared
    event loop (per request): POST {URL}/v1/completions {"model", "prompt_embeds", "max_tokens", ...}
                             -> the answer (plain JSON, or SSE chunks relayed as chat.completion chunks)

Only the LLM's embedding table is loaded here (`load_for_endpoint`): its layers stay on the meta device.

Safety: a torch.save payload is a pickle. textpro only *sends* one (vLLM reads it with `torch.load(...,
weights_only=True)`); nothing textpro receives from the endpoint is unpickled: its answers are JSON.

The same limits apply as locally (the prompt budget before the queue, max_tokens, the request's deadline); a
request that times out or whose client leaves closes its upstream HTTP request (vLLM aborts a request whose
connection closes). Endpoint failures become OpenAI-shaped errors: unreachable or overloaded (503, 429) -> 503 with
Retry-After; any other failure or a malformed answer -> 502.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import torch

from textpro.serve.engine import ChatJob, Engine, Transcribed

log = logging.getLogger("textpro.serve")

EMBED_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
BAN = -100.0  # OpenAI's logit_bias floor: the token is never chosen


def encode_prompt_embeds(embeds: torch.Tensor, dtype: torch.dtype | None = None) -> str:
    """(L, d_llm) -> base64 of `torch.save(tensor)`, vLLM's documented `prompt_embeds` encoding. The tensor is cloned
    first: torch.save writes a view's whole storage, and a row of a batch would carry the batch."""
    if embeds.dim() != 2:
        raise ValueError(f"prompt embeddings must be (L, d_llm), got {tuple(embeds.shape)}")
    tensor = embeds.detach().to("cpu", dtype or embeds.dtype).clone()
    buffer = io.BytesIO()
    torch.save(tensor, buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass
class Prepared:
    """A chat job made ready for the endpoint on the model thread."""

    heard: Transcribed
    prompt_embeds: str  # base64(torch.save((L, d_llm) tensor))
    prompt_tokens: int  # L


class RemoteEngine(Engine):
    """The model thread's part when the LLM is remote: WhisperPro for every job of a batch (one batch), then each
    chat job's prompt embeddings. A chat job's result is a `Prepared` (or an error), a transcription's a
    `Transcribed`."""

    def __init__(self, served, budget=None, observer=None, dtype: str = "float32"):
        super().__init__(served, budget, observer)
        self.dtype = EMBED_DTYPES[dtype]

    def run(self, jobs: list) -> list:
        self.batches_run += 1
        self.largest_batch = max(self.largest_batch, len(jobs))
        self.observer.batch(jobs)
        results: list = [None] * len(jobs)
        with self.watch.hooks(self.pipeline.transcriber.model):
            heard = self._hear(jobs, results)
        for i, job in enumerate(jobs):
            if isinstance(job, ChatJob) and results[i] is None:
                results[i] = self._over_budget(heard[i], job) or self.prepare(heard[i], job)
        return results

    @torch.inference_mode()
    def prepare(self, heard: Transcribed, job: ChatJob) -> Prepared:
        slm = self.pipeline.slm
        batch = {k: v.to(slm.device) for k, v in slm.builder.build_generation_batch(
            [(heard.transcript, job.prompt)]).items()}
        embeds = slm.embed(batch["input_ids"], batch["prosody_vectors"], batch["prosody_mask"])[0]  # (L, d_llm)
        return Prepared(heard, encode_prompt_embeds(embeds, self.dtype), int(embeds.shape[0]))


# ---------------------------------------------------------------------------------------------- loading
def embedding_only_llm(path, n_tokens: int | None = None):
    """The causal LM at `path` (a HF directory) with only its input embeddings loaded: every other weight stays on
    the meta device (no memory), so a 7B LLM costs its embedding table here, not 28 GB. Rows past the checkpoint's
    vocabulary up to `n_tokens` are zeros, as `fit_embeddings` makes them."""
    from pathlib import Path

    from safetensors import safe_open
    from torch import nn
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig

    path = Path(path)
    config = AutoConfig.from_pretrained(path)
    with torch.device("meta"):
        llm = AutoModelForCausalLM.from_config(config)
    embeddings = llm.get_input_embeddings()
    name = next(n for n, p in llm.named_parameters(remove_duplicate=False) if p is embeddings.weight)
    index = path / "model.safetensors.index.json"
    file = path / (json.loads(index.read_text())["weight_map"][name] if index.is_file() else "model.safetensors")
    with safe_open(str(file), framework="pt") as weights:
        table = weights.get_tensor(name).float()
    if n_tokens is not None and n_tokens > table.shape[0]:
        table = torch.cat([table, table.new_zeros(n_tokens - table.shape[0], table.shape[1])])
    llm.set_input_embeddings(nn.Embedding.from_pretrained(table, freeze=True, padding_idx=embeddings.padding_idx))
    if (path / "generation_config.json").is_file():
        llm.generation_config = GenerationConfig.from_pretrained(path)
    return llm.eval()


def load_for_endpoint(model_dir: str | None = None):
    """`engine.load_model` for `--llm-endpoint`: the same choice of model (--model DIR, else the embedded default,
    else the untrained base models), with WhisperPro, the projector and the tokenizer loaded as usual but the LLM
    reduced to its embedding table (`embedding_only_llm`). A LoRA checkpoint's adapter is not needed here: LoRA
    leaves the input embeddings frozen, so the base's table (with the placeholder's zero rows) is the model's."""
    from pathlib import Path

    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    from textpro.hub import resolve_model
    from textpro.pipeline import DEFAULT_MODEL_DIR, TextPro
    from textpro.serve.engine import ServedModel, untrained_model
    from textpro.slm import TextProSLM, TextProSLMConfig
    from textpro.slm.config import CONFIG_NAME, checkpoint_relative
    from textpro.slm.gate import GATE_NAME
    from textpro.slm.model import PROJECTOR_NAME, setup_placeholder
    from textpro.slm.projector import ProsodyProjector
    from textpro.whisperpro import Transcriber

    directory = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    if model_dir is None and not (directory / CONFIG_NAME).is_file():  # untrained, as TextPro.untrained()
        transcriber = Transcriber.from_pretrained("whisper-tiny.en")
        config = TextProSLMConfig(base_llm="smollm2-135m-instruct", whisperpro="whisper-tiny.en",
                                  injection="global", d_whisper=transcriber.model.config.d_model)
        path = resolve_model(config.base_llm)
        tokenizer = AutoTokenizer.from_pretrained(path)
        llm = embedding_only_llm(path)
        config.placeholder_token = setup_placeholder(tokenizer, llm, config.placeholder_token)
        return untrained_model(TextPro(transcriber, TextProSLM(llm, tokenizer, config).eval()))
    from textpro.errors import ModelError
    from textpro.slm.release import is_release_slm

    if is_release_slm(directory):
        raise ModelError(f"{directory}: a released checkpoint is served without --llm-endpoint (not supported yet)")
    if (directory / GATE_NAME).is_file():  # the endpoint would apply its adapter to every turn alike
        raise ModelError(f"{directory}: its LoRA adapter is gated per turn ({GATE_NAME}): serve it without "
                         "--llm-endpoint")
    config = TextProSLMConfig.load(directory)
    base = checkpoint_relative(directory, config.base_llm)
    has_tokenizer = (directory / "tokenizer_config.json").is_file()
    tokenizer = AutoTokenizer.from_pretrained(directory if has_tokenizer else resolve_model(base))
    full = (directory / "config.json").is_file()  # a full fine-tune: the directory is the LLM
    llm = embedding_only_llm(directory if full else resolve_model(base), len(tokenizer))
    projector = ProsodyProjector(config.d_whisper, llm.get_input_embeddings().embedding_dim, zero_init=False,
                                 n_acoustic=config.n_acoustic, n_encoder=config.n_encoder)
    projector.load_state_dict(load_file(directory / PROJECTOR_NAME), strict=False)
    slm = TextProSLM(llm, tokenizer, config, projector).eval()
    pipeline = TextPro(Transcriber.from_pretrained(checkpoint_relative(directory, config.whisperpro)), slm)
    if model_dir is not None:
        return ServedModel(pipeline, f"textpro-{directory.resolve().name}", f"TextPro-SLM checkpoint {directory} "
                           "(LLM on the endpoint)", trained=True)
    return ServedModel(pipeline, "textpro-default",
                       "the embedded default TextPro-SLM (mini recipe; LLM on the endpoint)", trained=True)


class EndpointError(Exception):
    """The endpoint failed; `status` is what our client gets (502 or 503)."""

    def __init__(self, status: int, message: str, code: str, retry_after: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.retry_after = status, message, code, retry_after

    def api_error(self):
        from textpro.serve.errors import APIError

        headers = {"Retry-After": self.retry_after} if self.retry_after else None
        return APIError(self.status, self.message, code=self.code, headers=headers)


def _upstream_message(status: int, body: bytes) -> str:
    try:
        error = json.loads(body)
        message = error.get("error", {}).get("message") if isinstance(error.get("error"), dict) else None
        message = message or error.get("message") or error.get("detail")
    except (ValueError, AttributeError):
        message = None
    text = str(message) if message else body.decode("utf-8", "replace").strip()
    return f"the LLM endpoint answered {status}" + (f": {text[:300]}" if text else "")


def _status_error(status: int, body: bytes, headers) -> EndpointError:
    message = _upstream_message(status, body)
    if status in (429, 503):  # overloaded or starting: the client may retry
        return EndpointError(503, message, "llm_endpoint_unavailable", headers.get("retry-after") or "1")
    return EndpointError(502, message, "llm_endpoint_error")


@dataclass
class Completion:
    text: str
    finish_reason: str
    completion_tokens: int | None


class LLMEndpoint:
    """An OpenAI-compatible Completions endpoint that takes `prompt_embeds` (vLLM with --enable-prompt-embeds)."""

    def __init__(self, url: str, model: str | None = None, api_key: str | None = None,
                 stop_token_ids: list[int] | None = None, banned_token_ids: list[int] | None = None,
                 connect_timeout: float = 5.0, transport: httpx.AsyncBaseTransport | None = None):
        base = url.rstrip("/")
        self.base = base if base.endswith("/v1") else base + "/v1"
        self.model = model  # None: the first model the endpoint lists, asked once
        self.stop_token_ids = list(stop_token_ids or [])
        self.banned_token_ids = list(banned_token_ids or [])
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # no read timeout here: each request's own deadline bounds it (and cancelling closes the connection)
        self.client = httpx.AsyncClient(headers=headers, transport=transport,
                                        timeout=httpx.Timeout(None, connect=connect_timeout),
                                        limits=httpx.Limits(max_connections=None, max_keepalive_connections=64))
        self._model_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def model_name(self) -> str:
        if self.model is not None:
            return self.model
        async with self._model_lock:
            if self.model is None:
                response = await self._send("GET", "/models")
                try:
                    self.model = str(response.json()["data"][0]["id"])
                except (ValueError, KeyError, IndexError, TypeError):
                    raise EndpointError(502, "the LLM endpoint's /v1/models lists no model",
                                        "llm_endpoint_bad_response") from None
                log.info("LLM endpoint %s serves %s", self.base, self.model)
        return self.model

    async def _send(self, method: str, path: str, stream: bool = False, **kwargs) -> httpx.Response:
        """The endpoint's response, status checked; transport failures become 503 (unreachable) or 502."""
        request = self.client.build_request(method, self.base + path, **kwargs)
        try:
            response = await self.client.send(request, stream=stream)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise EndpointError(503, f"the LLM endpoint {self.base} is unreachable ({type(exc).__name__})",
                                "llm_endpoint_unavailable", "5") from None
        except httpx.HTTPError as exc:
            raise EndpointError(502, f"the LLM endpoint failed: {type(exc).__name__}",
                                "llm_endpoint_error") from None
        if response.status_code != 200:
            if stream:  # read the error body, then let the connection go
                await response.aread()
                await response.aclose()
            raise _status_error(response.status_code, response.content, response.headers)
        return response

    async def body(self, prepared: Prepared, generation, stream: bool) -> dict:
        body = {"model": await self.model_name(), "prompt_embeds": prepared.prompt_embeds,
                "max_tokens": generation.max_new_tokens, "temperature": generation.temperature
                if generation.do_sample else 0.0, "top_p": generation.top_p if generation.do_sample else 1.0,
                "n": 1, "stream": stream, "skip_special_tokens": True}
        if self.stop_token_ids:
            body["stop_token_ids"] = self.stop_token_ids  # vLLM's extension: the local model's end-of-turn ids
        if self.banned_token_ids:  # the prosody placeholder, suppressed as locally
            body["logit_bias"] = {str(token): BAN for token in self.banned_token_ids}
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    async def complete(self, prepared: Prepared, generation) -> Completion:
        response = await self._send("POST", "/completions", json=await self.body(prepared, generation, False))
        try:
            answer = response.json()
            choice = answer["choices"][0]
            text = choice["text"]
            if not isinstance(text, str):
                raise TypeError
        except (ValueError, KeyError, IndexError, TypeError):
            raise EndpointError(502, "the LLM endpoint's answer is not a completion",
                                "llm_endpoint_bad_response") from None
        usage = answer.get("usage") or {}
        return Completion(text, choice.get("finish_reason") or "stop", usage.get("completion_tokens"))

    async def open_stream(self, prepared: Prepared, generation) -> httpx.Response:
        """The upstream SSE response, status checked (read it with `pieces`, close it with `aclose`)."""
        return await self._send("POST", "/completions", stream=True,
                                json=await self.body(prepared, generation, True))

    @staticmethod
    async def pieces(response: httpx.Response) -> AsyncIterator[tuple[str, str | None, int | None]]:
        """(text, finish_reason or None, completion_tokens or None) per upstream chunk, until `data: [DONE]`."""
        try:
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    chunk = json.loads(data)
                except ValueError:
                    raise EndpointError(502, "the LLM endpoint sent a malformed stream chunk",
                                        "llm_endpoint_bad_response") from None
                if "error" in chunk:
                    raise EndpointError(502, _upstream_message(502, data.encode()), "llm_endpoint_error")
                tokens = (chunk.get("usage") or {}).get("completion_tokens")
                for choice in chunk.get("choices") or []:
                    yield choice.get("text") or "", choice.get("finish_reason"), tokens
                if not chunk.get("choices") and tokens is not None:
                    yield "", None, tokens
        except httpx.HTTPError as exc:
            raise EndpointError(502, f"the LLM endpoint's stream broke: {type(exc).__name__}",
                                "llm_endpoint_error") from None


def remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())
