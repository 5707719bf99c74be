"""Continuous batching: requests join the decode batch at step boundaries, rows leave it when they
end or are cancelled, streamed and plain requests share it, and every answer equals the batch-of-one greedy one."""

from __future__ import annotations

import threading

import pytest

from tests.serve_support import audio_message, b64, spoken, untrained_served
from tests.test_serve import chat, make_client, sse_events
from tests.test_serve_cancel import COUNTING, Recorder, samples
from tests.test_serve_metrics import scrape, value

pytestmark = pytest.mark.slow

QUESTIONS = ["What is the capital of France?", "How many legs does a spider have?", "What is the largest planet?",
             "What is the boiling point of water?"]


@pytest.fixture(scope="module")
def engines():
    from textpro.serve.continuous import ContinuousEngine
    from textpro.serve.engine import Engine

    served = untrained_served()
    continuous = ContinuousEngine(served, max_rows=4)
    continuous.observer = Recorder()
    return Engine(served), continuous


def jobs_for(prompts, max_new_tokens=24):
    from textpro.serve.engine import ChatJob
    from textpro.serve.schemas import Generation

    generation = Generation(max_new_tokens, do_sample=False, temperature=1.0, top_p=1.0)
    return [ChatJob(samples(q), text, generation) for q, text in prompts]


PROMPTS = [(QUESTIONS[0], None), (QUESTIONS[1], COUNTING), (QUESTIONS[2], None), (QUESTIONS[3], "Answer briefly.")]


def batch_sizes(llm):
    sizes = []
    handle = llm.register_forward_pre_hook(
        lambda module, args, kwargs: sizes.append((kwargs.get("input_ids") if kwargs.get("input_ids") is not None
                                                   else kwargs["inputs_embeds"]).shape[0]), with_kwargs=True)
    return sizes, handle


def test_rows_that_join_late_and_leave_early_answer_as_they_would_alone(engines, one_thread):
    alone_engine, engine = engines
    alone = [alone_engine.run([job])[0] for job in jobs_for(PROMPTS)]

    jobs = jobs_for(PROMPTS)
    results = {}
    deliver = lambda job, result: results.__setitem__(id(job), result)  # noqa: E731
    sizes, handle = batch_sizes(engine.llm)
    try:
        steps = []
        engine.advance(jobs[:2], deliver, more_waiting=lambda: steps.append(1) or len(steps) > 4)
        assert engine.active == 2  # returned at a step boundary to let the others in
        engine.advance(jobs[2:], deliver)
    finally:
        handle.remove()
    assert engine.active == 0
    answers = [results[id(job)] for job in jobs]
    assert [a.answer for a in answers] == [a.answer for a in alone]
    assert [a.completion_tokens for a in answers] == [a.completion_tokens for a in alone]
    assert max(sizes) <= 4 and sizes[-1] < 4  # the late pair joined; the batch shrank as rows ended


def test_a_cancelled_row_leaves_the_batch_at_the_next_step(engines, one_thread):
    from textpro.serve.cancel import Cancelled

    _, engine = engines
    jobs = jobs_for([(QUESTIONS[0], COUNTING), (QUESTIONS[1], COUNTING)], max_new_tokens=60)
    results = {}
    sizes, handle = batch_sizes(engine.llm)

    def cancel_after_three_steps():
        if len(sizes) == 4:  # the prefill and three steps
            jobs[0].cancel.cancel("disconnect")
        return False

    try:
        engine.advance(jobs, lambda job, result: results.__setitem__(id(job), result), cancel_after_three_steps)
    finally:
        handle.remove()
    assert isinstance(results[id(jobs[0])], Cancelled) and not isinstance(results[id(jobs[1])], Cancelled)
    assert sizes[:4] == [2, 2, 2, 2] and set(sizes[4:]) == {1}  # from the next step on, one row
    assert engine.observer.reasons[-1] == "disconnect"


def test_streamed_and_plain_requests_share_continuous_batches_over_http():
    with make_client(continuous_batching=True, max_batch_size=4, batch_wait_ms=300) as client:
        alone = chat(client, audio_message(b64(spoken(QUESTIONS[1])))).json()["choices"][0]["message"]["content"]
        results = {}

        def ask(i):
            stream = i == 0
            results[i] = chat(client, audio_message(b64(spoken(QUESTIONS[i % 2 + 1]))), stream=stream)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r.status_code == 200 for r in results.values())
        assert client.get("/health").json()["batching"]["largest_batch"] >= 2
        events = sse_events(results[0])
        streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in events[:-1] if c["choices"])
        assert events[-1] == "[DONE]" and streamed.strip() == alone
        assert results[2].json()["choices"][0]["message"]["content"] == alone
        transcript = client.post("/v1/audio/transcriptions", files={"file": ("q.wav", spoken(), "audio/wav")})
        assert transcript.status_code == 200 and "France" in transcript.json()["text"]
        metrics = scrape(client)
        assert value(metrics, "textpro_decode_rows") == 0  # every row left the batch
        assert value(metrics, "textpro_time_to_first_token_seconds_count") == 5


def test_a_gated_adapter_keeps_each_rows_share_as_rows_join_and_leave(one_thread):
    """With an adapter gate (textpro.slm.gate) each row keeps the share of the adapter its own prompt gave it, in the
    prefill and in every decoding step while other rows join and leave: answers equal the batch-of-one Engine's."""
    import numpy as np
    import torch

    from textpro.serve.continuous import ContinuousEngine
    from textpro.serve.engine import Engine
    from textpro.slm.gate import AdapterGate

    served = untrained_served()
    slm = served.pipeline.slm.prepare_stage(2, lora=True).eval()
    generator = torch.Generator().manual_seed(1)
    for name, parameter in slm.llm.named_parameters():  # an adapter that changes the answers (peft starts B at 0)
        if "lora_B" in name:
            parameter.data = torch.randn(parameter.shape, generator=generator) * 0.02
    gate = AdapterGate(slm.llm.get_input_embeddings().embedding_dim, layer=15)
    turns = slm.builder.build_generation_batch([({"text": q, "prosody": np.zeros((1, slm.config.d_whisper))}, text)
                                                for q, text in PROMPTS])  # the transcripts as asked; no voice read
    gate.fit(gate.features(slm.llm, turns["input_ids"], turns["attention_mask"].bool(), slm.placeholder_id),
             torch.tensor([float(text is not None) for _, text in PROMPTS]))  # an instruction opens it, here
    slm.set_gate(gate)
    alone = [Engine(served).run([job])[0] for job in jobs_for(PROMPTS)]

    engine = ContinuousEngine(served, max_rows=4)
    shares = []
    set_gates = engine._gates
    engine._gates = lambda rows: set_gates(rows) or shares.append([row.gate for row in rows])
    jobs = jobs_for(PROMPTS)
    results = {}
    deliver = lambda job, result: results.__setitem__(id(job), result)  # noqa: E731
    steps = []
    engine.advance(jobs[:2], deliver, more_waiting=lambda: steps.append(1) or len(steps) > 4)
    engine.advance(jobs[2:], deliver)
    assert [results[id(job)].answer for job in jobs] == [a.answer for a in alone]
    assert any(min(s) < 0.5 < max(s) for s in shares)  # open and closed rows decoded in the same step
