"""`textpro serve --llm-endpoint URL`: WhisperPro, the projector and the embedding lookup stay in
textpro; the prompt embeddings go to a vLLM-style Completions endpoint (`prompt_embeds`: base64 of a torch.save'd
(L, d_llm) tensor). Here the endpoint is a small fake vLLM (FastAPI under uvicorn) that decodes and checks the
payload and answers with a canned completion, plain or streamed, or fails as asked."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import shutil
import time

import httpx
import pytest
import torch
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

from tests.serve_support import audio_message, b64, free_port, live_server, spoken, untrained_served
from tests.test_serve import assert_openai_error

pytestmark = pytest.mark.slow

CANNED = "The capital of France is Paris."
PIECES = ["The capital", " of France", " is Paris."]


class FakeVLLM:
    """What a vLLM server started with --enable-prompt-embeds does with /v1/completions, as far as textpro sees it.
    `mode`: ok | slow (answers only after the client leaves) | 500 | 503 | garbage; streams in `stream_delay` steps."""

    def __init__(self):
        self.mode = "ok"
        self.stream_delay = 0.0
        self.requests: list[dict] = []  # each body, prompt_embeds replaced by the decoded tensor
        self.disconnected: list[float] = []  # monotonic times at which a client left before the answer ended
        self.app = self._app()

    def _app(self):
        app = FastAPI()

        @app.get("/v1/models")
        async def models():
            return {"object": "list", "data": [{"id": "fake-llm", "object": "model"}]}

        @app.post("/v1/completions")
        async def completions(request: Request):
            body = await request.json()
            raw = base64.b64decode(body["prompt_embeds"], validate=True)
            # weights_only: a tensor and nothing else can come out of this payload (what vLLM does too)
            body["prompt_embeds"] = torch.load(io.BytesIO(raw), weights_only=True)
            body["payload_bytes"] = len(raw)
            self.requests.append(body)
            if body["model"] != "fake-llm":
                return JSONResponse({"error": {"message": f"model {body['model']} not found"}}, 404)
            if self.mode == "500":
                return JSONResponse({"error": {"message": "CUDA out of memory", "code": 500}}, 500)
            if self.mode == "503":
                return JSONResponse({"error": {"message": "engine starting"}}, 503, headers={"Retry-After": "7"})
            if self.mode == "garbage":
                return PlainTextResponse("<html>proxy error</html>")
            if self.mode == "slow" and not body.get("stream"):
                while not await request.is_disconnected():
                    await asyncio.sleep(0.02)
                self.disconnected.append(time.monotonic())
                return JSONResponse({})
            if body.get("stream"):
                return StreamingResponse(self._stream(body), media_type="text/event-stream")
            return {"id": "cmpl-1", "object": "text_completion", "model": "fake-llm",
                    "choices": [{"index": 0, "text": " " + CANNED, "finish_reason": "stop", "logprobs": None}],
                    "usage": {"prompt_tokens": body["prompt_embeds"].shape[0], "completion_tokens": 8,
                              "total_tokens": body["prompt_embeds"].shape[0] + 8}}

        return app

    async def _stream(self, body):
        pieces = PIECES * (40 if self.mode == "slow" else 1)
        ended = False
        try:
            for piece in pieces:
                chunk = {"id": "cmpl-1", "object": "text_completion", "model": "fake-llm",
                         "choices": [{"index": 0, "text": piece, "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n"
                await asyncio.sleep(self.stream_delay)
            last = {"id": "cmpl-1", "choices": [{"index": 0, "text": "", "finish_reason": "stop"}]}
            yield f"data: {json.dumps(last)}\n\n"
            usage = {"id": "cmpl-1", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 6}}
            yield f"data: {json.dumps(usage)}\n\n"
            yield "data: [DONE]\n\n"
            ended = True
        finally:
            if not ended:
                self.disconnected.append(time.monotonic())


@pytest.fixture(scope="module")
def fake():
    vllm = FakeVLLM()
    with live_server(vllm.app) as url:
        vllm.url = url
        yield vllm


@pytest.fixture()
def reset(fake):
    fake.mode, fake.stream_delay = "ok", 0.0
    fake.requests.clear()
    fake.disconnected.clear()
    return fake


def textpro_app(url: str, **settings):
    from textpro.serve import ServeSettings, create_app

    settings.setdefault("max_new_tokens", 12)
    return create_app(untrained_served(), ServeSettings(llm_endpoint=url, **settings))


def expected_embeds(text_prompt=None) -> torch.Tensor:
    """What the local model embeds for the test clip: the prompt the endpoint must receive."""
    from textpro.audio import load_audio

    pro = untrained_served().pipeline
    heard = pro.transcriber.transcribe(load_audio(spoken()))
    batch = pro.slm.builder.build_generation_batch([(heard, text_prompt)])
    with torch.inference_mode():
        return pro.slm.embed(batch["input_ids"], batch["prosody_vectors"], batch["prosody_mask"])[0]


def post(client, base: str, **body):
    body = {"messages": audio_message(b64(spoken())), **body}
    return client.post(f"{base}/v1/chat/completions", json=body, timeout=60)


# ------------------------------------------------------------------------------------------------ the payload
def test_prompt_embeds_encoding_is_vllms():
    from textpro.serve.remote import encode_prompt_embeds

    batch = torch.randn(8, 64, 32)
    encoded = encode_prompt_embeds(batch[1])  # a view of a batch: only its own rows may travel
    raw = base64.b64decode(encoded, validate=True)
    tensor = torch.load(io.BytesIO(raw), weights_only=True)
    assert torch.equal(tensor, batch[1]) and tensor.dtype == torch.float32
    assert len(raw) < 64 * 32 * 4 + 4096  # not the 8 times larger storage behind the view
    half = torch.load(io.BytesIO(base64.b64decode(encode_prompt_embeds(batch[0], torch.bfloat16))),
                      weights_only=True)
    assert half.dtype == torch.bfloat16 and half.shape == (64, 32)
    with pytest.raises(ValueError):
        encode_prompt_embeds(batch)


def test_settings_refuse_what_cannot_work():
    from textpro.errors import ConfigError
    from textpro.serve import ServeSettings

    with pytest.raises(ConfigError):
        ServeSettings(llm_endpoint="gpu-host:8000")
    with pytest.raises(ConfigError):
        ServeSettings(llm_endpoint="http://gpu-host:8000", continuous_batching=True)
    with pytest.raises(ConfigError):
        ServeSettings(llm_endpoint="http://gpu-host:8000", llm_endpoint_dtype="int8")
    settings = ServeSettings.from_env({"TEXTPRO_LLM_ENDPOINT": "http://h:1", "TEXTPRO_LLM_ENDPOINT_DTYPE": "bfloat16"})
    assert settings.llm_endpoint == "http://h:1" and settings.llm_endpoint_dtype == "bfloat16"


# ------------------------------------------------------------------------------------------------ answers
def test_plain_and_streamed_answers_come_from_the_endpoint(reset):
    fake = reset
    slm = untrained_served().pipeline.slm
    d_llm = slm.llm.get_input_embeddings().embedding_dim
    with live_server(textpro_app(fake.url)) as base, httpx.Client() as client:
        response = post(client, base, max_tokens=9)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["choices"][0]["message"]["content"] == CANNED
        assert answer["choices"][0]["finish_reason"] == "stop"
        assert answer["textpro"]["transcript"]  # what WhisperPro heard, as locally
        sent = fake.requests[-1]
        tensor = sent["prompt_embeds"]
        assert tensor.dim() == 2 and tensor.shape[1] == d_llm and tensor.dtype == torch.float32
        assert answer["usage"]["prompt_tokens"] == tensor.shape[0] and answer["usage"]["completion_tokens"] == 8
        # exactly the local model's prompt embeddings: template, transcript and projected prosody rows
        assert torch.allclose(tensor, expected_embeds(), atol=1e-6)
        assert sent["model"] == "fake-llm" and sent["max_tokens"] == 9 and sent["temperature"] == 0.0
        assert sent["stream"] is False and "prompt" not in sent
        assert sent["logit_bias"] == {str(slm.placeholder_id): -100.0}  # the placeholder is never generated
        assert slm.tokenizer.eos_token_id in sent["stop_token_ids"]

        with client.stream("POST", f"{base}/v1/chat/completions", timeout=60,
                           json={"messages": audio_message(b64(spoken()), text="Answer briefly."), "stream": True,
                                 "stream_options": {"include_usage": True}}) as streamed:
            assert streamed.status_code == 200
            events = [line[6:] for line in streamed.iter_lines() if line.startswith("data: ")]
        assert events[-1] == "[DONE]"
        chunks = [json.loads(e) for e in events[:-1]]
        assert chunks[0]["choices"][0]["delta"]["role"] == "assistant" and chunks[0]["textpro"]["transcript"]
        assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == "".join(PIECES)
        assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 6
        sent = fake.requests[-1]
        assert sent["stream"] is True and sent["max_tokens"] == 12  # the server's cap when max_tokens is not given
        assert torch.allclose(sent["prompt_embeds"], expected_embeds("Answer briefly."), atol=1e-6)
        assert client.get(f"{base}/health").json()["llm_endpoint"] == fake.url + "/v1"


def test_bfloat16_payload_and_named_model(reset):
    fake = reset
    app = textpro_app(fake.url + "/v1/", llm_endpoint_dtype="bfloat16", llm_endpoint_model="fake-llm")
    with live_server(app) as base, httpx.Client() as client:
        assert post(client, base).status_code == 200
    assert fake.requests[-1]["prompt_embeds"].dtype == torch.bfloat16
    full = fake.requests[-1]["prompt_embeds"].numel() * 4
    assert fake.requests[-1]["payload_bytes"] < full * 0.6  # half the float32 payload, plus torch.save's header


# ------------------------------------------------------------------------------------------------ failures
@pytest.mark.parametrize("mode,status,code", [("500", 502, "llm_endpoint_error"),
                                              ("503", 503, "llm_endpoint_unavailable"),
                                              ("garbage", 502, "llm_endpoint_bad_response")])
def test_endpoint_failures_are_clean_502_or_503(reset, mode, status, code):
    reset.mode = mode
    with live_server(textpro_app(reset.url)) as base, httpx.Client() as client:
        response = post(client, base)
        assert_openai_error(response, status, code)
        if mode == "503":
            assert response.headers["retry-after"] == "7"
        if mode == "500":
            assert "CUDA out of memory" in response.json()["error"]["message"]
        if mode != "garbage":  # a stream whose upstream fails before its first byte gets the status too
            streamed = post(client, base, stream=True)
            assert_openai_error(streamed, status, code)
        assert client.get(f"{base}/health").status_code == 200


def test_unreachable_endpoint_is_503():
    with live_server(textpro_app(f"http://127.0.0.1:{free_port()}")) as base, httpx.Client() as client:
        response = post(client, base)
        assert_openai_error(response, 503, "llm_endpoint_unavailable")
        assert response.headers["retry-after"]


# ------------------------------------------------------------------------------------------------ cancellation
def test_timeout_and_disconnect_close_the_upstream_request(reset):
    fake = reset
    fake.mode = "slow"
    with live_server(textpro_app(fake.url, timeout_seconds=4.0)) as base, httpx.Client() as client:
        started = time.monotonic()
        response = post(client, base)
        assert_openai_error(response, 504, "timeout")
        deadline = started + 4.0
        wait_until(lambda: fake.disconnected)
        assert fake.disconnected[0] - deadline < 1.0  # the upstream request was closed at the deadline

        fake.disconnected.clear()
        fake.stream_delay = 0.1  # 120 pieces, 12 s: the client leaves after the first few
        with client.stream("POST", f"{base}/v1/chat/completions", timeout=60,
                           json={"messages": audio_message(b64(spoken())), "stream": True}) as streamed:
            assert streamed.status_code == 200
            for n, _ in enumerate(streamed.iter_lines()):
                if n >= 4:
                    break
            left = time.monotonic()
        wait_until(lambda: fake.disconnected)
        assert fake.disconnected[0] - left < 1.5  # textpro closed its upstream stream when its client left


def wait_until(condition, seconds: float = 5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


# ------------------------------------------------------------------------------------------------ loading
def test_endpoint_mode_loads_only_the_embedding_table(monkeypatch, tmp_path):
    """With --llm-endpoint the LLM's layers stay on the meta device (no memory); the prompt embeddings sent are the
    full model's, for a LoRA checkpoint (the embedded default without its adapter gate) and for the untrained base
    models. The embedded default itself is refused: an endpoint would apply its gated adapter to every turn alike."""
    from textpro.audio import load_audio
    from textpro.errors import ModelError
    from textpro.pipeline import DEFAULT_MODEL_DIR, TextPro
    from textpro.serve.engine import ChatJob, ServedModel
    from textpro.serve.remote import RemoteEngine, load_for_endpoint
    from textpro.serve.schemas import Generation
    from textpro.slm.gate import GATE_NAME

    samples = load_audio(spoken())

    def sent(served, prompt="Answer briefly."):
        prepared = RemoteEngine(served).run([ChatJob(samples, prompt, Generation(8, False, 1.0, 1.0))])[0]
        return torch.load(io.BytesIO(base64.b64decode(prepared.prompt_embeds)), weights_only=True)

    def check_light(llm):
        real = [p for p in llm.parameters() if p.device.type != "meta"]
        assert real == [llm.get_input_embeddings().weight]

    with pytest.raises(ModelError, match="gated per turn"):
        load_for_endpoint(None)
    lora = tmp_path / "lora"
    shutil.copytree(DEFAULT_MODEL_DIR, lora)
    (lora / GATE_NAME).unlink()  # the same LoRA checkpoint, its adapter on every turn
    light = load_for_endpoint(lora)
    check_light(light.pipeline.slm.llm)
    full = ServedModel(TextPro.from_pretrained(lora), "full", "full", True)
    assert torch.equal(sent(light), sent(full))

    monkeypatch.setattr("textpro.pipeline.DEFAULT_MODEL_DIR", tmp_path / "none")  # no default: the untrained models
    untrained = load_for_endpoint(None)
    check_light(untrained.pipeline.slm.llm)
    assert untrained.model_id == untrained_served().model_id and not untrained.trained
    a, b = sent(untrained, None), sent(untrained_served(), None)
    assert a.shape == b.shape
    slm = untrained.pipeline.slm
    transcript = untrained.pipeline.transcriber.transcribe(samples)
    ids = slm.builder.build_generation_batch([(transcript, None)])["input_ids"][0]
    text_rows = ids != slm.placeholder_id  # the fresh projector's rows differ between two untrained models
    assert torch.equal(a[text_rows], b[text_rows])
