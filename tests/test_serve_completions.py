"""POST /v1/completions: the served model's LLM continues a text prompt as sent (no chat template, no audio). Greedy
answers equal the LLM's own batch-of-one greedy generation token for token, in micro-batches and continuous batches
beside chat requests; what cannot be served is refused with a 400 before any model work; and `textpro distill
--teacher-endpoint` pointed at `textpro serve` writes the local teacher's answers."""

from __future__ import annotations

import json

import pytest

from tests.serve_support import live_server, untrained_served
from tests.test_serve import assert_openai_error, make_client
from tests.test_serve_cancel import samples
from tests.test_serve_metrics import scrape, value

pytestmark = pytest.mark.slow

QUESTIONS = ["What is the capital of France?", "How many legs does a spider have?", "Name a primary colour.",
             "Count from one to twenty."]
MAX_TOKENS = 12


def rendered(question: str) -> str:
    from textpro.text_llm import render_chat

    return render_chat(untrained_served().pipeline.slm.tokenizer, question)


def greedy_alone(prompt: str, max_new_tokens: int = MAX_TOKENS) -> list[int]:
    """The LLM's own greedy continuation of `prompt`, a batch of one through transformers' generate."""
    import torch

    from textpro.text_llm import greedy_config

    slm = untrained_served().pipeline.slm
    ids = slm.tokenizer(prompt).input_ids
    with torch.inference_mode():
        out = slm.llm.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                               generation_config=greedy_config(slm.llm, slm.tokenizer, max_new_tokens))
    return out[0, len(ids):].tolist()


def completion_jobs(prompts: list[str], max_new_tokens: int = 24, stop: tuple[str, ...] = ()):
    from textpro.serve.schemas import Generation
    from textpro.serve.text_completion import CompletionJob

    slm = untrained_served().pipeline.slm
    generation = Generation(max_new_tokens, do_sample=False, temperature=1.0, top_p=1.0)
    return [CompletionJob(slm.tokenizer(p).input_ids, generation, stop) for p in prompts]


def chat_job(question: str):
    from textpro.serve.engine import ChatJob
    from textpro.serve.schemas import Generation

    return ChatJob(samples(question), None, Generation(24, do_sample=False, temperature=1.0, top_p=1.0))


# ------------------------------------------------------------------------------------------------ the engines
def test_completions_share_micro_and_continuous_batches_with_chats_and_answer_as_alone(one_thread):
    from textpro.serve.continuous import ContinuousEngine
    from textpro.serve.engine import ChatAnswer, Engine

    served = untrained_served()
    prompts = [rendered(q) for q in QUESTIONS] + ["The three primary colours are"]  # a raw prompt too
    alone = [greedy_alone(p, 24) for p in prompts]

    results = Engine(served).run([chat_job(QUESTIONS[0]), *completion_jobs(prompts)])
    assert isinstance(results[0], ChatAnswer) and "Paris" in results[0].answer
    assert [r.tokens for r in results[1:]] == alone
    eos = served.pipeline.slm.tokenizer.eos_token_id
    assert [r.finish_reason for r in results[1:]] == ["stop" if tokens[-1] == eos else "length" for tokens in alone]

    engine = ContinuousEngine(served, max_rows=8)
    jobs = completion_jobs(prompts)
    chat = chat_job(QUESTIONS[1])
    delivered = {}
    deliver = lambda job, result: delivered.__setitem__(id(job), result)  # noqa: E731
    steps = []
    engine.advance([jobs[0], chat, jobs[1]], deliver, more_waiting=lambda: steps.append(1) or len(steps) > 3)
    assert engine.active == 3  # paused at a step boundary: the others join the rows already decoding
    engine.advance(jobs[2:], deliver)
    assert engine.active == 0
    assert [delivered[id(job)].tokens for job in jobs] == alone
    assert isinstance(delivered[id(chat)], ChatAnswer) and delivered[id(chat)].answer


def test_a_stop_string_ends_the_row_and_is_left_out(one_thread):
    from textpro.serve.continuous import ContinuousEngine
    from textpro.serve.engine import Engine

    served = untrained_served()
    prompt = rendered(QUESTIONS[0])
    tokenizer = served.pipeline.slm.tokenizer
    full = tokenizer.decode(greedy_alone(prompt, 24), skip_special_tokens=True)
    assert "Paris" in full, full
    for run in (lambda jobs: Engine(served).run(jobs), lambda jobs: _advance_all(ContinuousEngine(served), jobs)):
        done = run(completion_jobs([prompt], stop=("Paris", "no such words")))[0]
        assert done.text == full[:full.index("Paris")] and done.finish_reason == "stop"
        # generation ended with the token that completed the stop string
        assert "Paris" in tokenizer.decode(done.tokens) and "Paris" not in tokenizer.decode(done.tokens[:-1])


def _advance_all(engine, jobs):
    delivered = {}
    engine.advance(jobs, lambda job, result: delivered.__setitem__(id(job), result))
    return [delivered[id(job)] for job in jobs]


# ------------------------------------------------------------------------------------------------ over HTTP
@pytest.fixture(scope="module")
def client():
    with make_client(max_prompt_tokens=256) as client:
        yield client


def complete(client, prompt, **body):
    return client.post("/v1/completions", json={"prompt": prompt, "max_tokens": MAX_TOKENS, **body})


def test_the_endpoint_answers_the_llm_greedy_continuation(client):
    tokenizer = untrained_served().pipeline.slm.tokenizer
    prompt = rendered(QUESTIONS[0])
    expected = greedy_alone(prompt)
    response = complete(client, prompt, model="textpro", temperature=0.0, top_p=1.0, n=1, stream=False)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-")
    assert body["model"] == untrained_served().model_id
    choice = body["choices"][0]
    assert choice["text"] == tokenizer.decode(expected, skip_special_tokens=True) and "Paris" in choice["text"]
    assert choice["finish_reason"] == ("stop" if expected[-1] == tokenizer.eos_token_id else "length")
    assert body["usage"] == {"prompt_tokens": len(tokenizer(prompt).input_ids), "completion_tokens": len(expected),
                             "total_tokens": len(tokenizer(prompt).input_ids) + len(expected)}
    assert complete(client, [prompt]).json()["choices"][0]["text"] == choice["text"]  # a list of one prompt
    sampled = complete(client, prompt, temperature=0.8, top_p=0.9)
    assert sampled.status_code == 200 and sampled.json()["usage"]["completion_tokens"] >= 1
    assert value(scrape(client), "textpro_requests_total", endpoint="/v1/completions", status="200") == 3


def test_what_cannot_be_served_is_refused_with_a_400_before_any_model_work(client):
    batches = client.get("/health").json()["batching"]["batches_run"]
    prompt = rendered(QUESTIONS[0])
    refused = [
        (complete(client, [prompt, prompt]), "unsupported_value", "prompt"),
        (complete(client, ""), "invalid_request", "prompt"),
        (complete(client, [1, 2, 3]), "invalid_request", None),  # token ids: not taken
        (client.post("/v1/completions", json={"max_tokens": 4}), "invalid_request", "prompt"),
        (complete(client, prompt, n=2), "unsupported_value", "n"),
        (complete(client, prompt, stream=True), "unsupported_value", "stream"),
        (complete(client, prompt, echo=True), "unsupported_value", "echo"),
        (complete(client, prompt, logprobs=1), "unsupported_value", "logprobs"),
        (complete(client, prompt, best_of=3), "unsupported_value", "best_of"),
        (complete(client, prompt, frequency_penalty=0.5), "unsupported_value", "frequency_penalty"),
        (complete(client, prompt, temperature=3.0), "invalid_request", "temperature"),
        (complete(client, prompt, max_tokens=0), "invalid_request", "max_tokens"),
        (complete(client, prompt, stop=["a", "b", "c", "d", "e"]), "invalid_request", "stop"),
        (complete(client, prompt, stop=""), "invalid_request", "stop"),
        (complete(client, "Why? " * 80_000), "context_length_exceeded", "prompt"),  # 400,000 characters
        (complete(client, "Please answer in one short sentence. " * 60), "context_length_exceeded", "prompt"),
    ]
    for response, code, param in refused:
        assert_openai_error(response, 400, code, param)
    assert "at most 256" in refused[-1][0].json()["error"]["message"]
    assert_openai_error(complete(client, prompt, model="gpt-4"), 404, "model_not_found", "model")
    bad_json = client.post("/v1/completions", content=b"{", headers={"content-type": "application/json"})
    assert_openai_error(bad_json, 400, "invalid_json")
    assert client.get("/health").json()["batching"]["batches_run"] == batches  # no model work was done


def test_with_an_llm_endpoint_text_completions_are_sent_to_the_endpoint_instead():
    from fastapi.testclient import TestClient

    from textpro.serve import ServeSettings, create_app

    with TestClient(create_app(untrained_served(), ServeSettings(llm_endpoint="http://127.0.0.1:9"))) as client:
        response = complete(client, rendered(QUESTIONS[0]))
    assert_openai_error(response, 400, "unsupported_value")
    assert "runs on http://127.0.0.1:9/v1" in response.json()["error"]["message"]


def test_prompt_plus_completion_must_fit_the_context_window():
    with make_client(max_new_tokens=8190, max_prompt_tokens=100_000) as client:
        response = complete(client, rendered(QUESTIONS[0]), max_tokens=8190)
        assert_openai_error(response, 400, "context_length_exceeded", "prompt")
        assert response.json()["error"]["message"].startswith("This model's maximum context length is 8192 tokens.")


def test_continuous_batching_serves_completions_too():
    prompt = rendered(QUESTIONS[1])
    with make_client(continuous_batching=True) as client:
        response = complete(client, prompt)
    assert response.status_code == 200, response.text
    tokenizer = untrained_served().pipeline.slm.tokenizer
    assert response.json()["choices"][0]["text"] == tokenizer.decode(greedy_alone(prompt), skip_special_tokens=True)


# ------------------------------------------------------------------------------------------------ the teacher
def test_distill_with_textpro_serve_as_the_teacher_endpoint_writes_the_local_teachers_answers(tmp_path):
    import copy

    from textpro.serve import ServeSettings, create_app
    from textpro.slm.distill import distill

    slm = untrained_served().pipeline.slm  # untrained: its LLM is the base text LLM, the local teacher
    features = tmp_path / "features"
    features.mkdir()
    (features / "featurize.json").write_text(json.dumps({"format": 1, "shard_size": 4, "num_records": 3,
                                                         "d_whisper": 8, "kind": "whisperpro"}))
    (features / "index.jsonl").write_text("".join(json.dumps({"id": f"utt{i}", "text": q}) + "\n"
                                                  for i, q in enumerate(QUESTIONS[:3])))
    local, remote = tmp_path / "local.jsonl", tmp_path / "remote.jsonl"
    distill(features, "unused", local, batch_size=1, max_new_tokens=MAX_TOKENS, progress=False, llm=slm.llm,
            tokenizer=slm.tokenizer)
    app = create_app(untrained_served(), ServeSettings(max_new_tokens=MAX_TOKENS))
    with live_server(app) as url:
        # the client's own tokenizer: the server's model thread decodes with the model's meanwhile
        assert distill(features, "unused", remote, max_new_tokens=MAX_TOKENS, progress=False, teacher_endpoint=url,
                       tokenizer=copy.deepcopy(slm.tokenizer), endpoint_options={"concurrency": 3}) == 3
    rows = lambda path: {r["id"]: r for r in map(json.loads, path.read_text().splitlines())}  # noqa: E731
    by_server, by_teacher = rows(remote), rows(local)
    assert {k: r["response"] for k, r in by_server.items()} == {k: r["response"] for k, r in by_teacher.items()}
    assert all(r["teacher"] == untrained_served().model_id for r in by_server.values())
    assert {r["template_sha256"] for r in by_server.values()} == {r["template_sha256"] for r in by_teacher.values()}
