"""The model side of the server: which model is served, and how a micro-batch of requests runs on it.

A batch holds transcription, chat and text completion jobs together: one WhisperPro batch for all of their audio,
then one LLM batch per set of decoding options among the chat jobs, and one among the text completions
(text_completion.py). A streaming chat runs alone (its tokens go to one client).
Cancelled jobs cost the model at most one step (cancel.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import StoppingCriteriaList

from textpro.serve.analysis import analyze_clip
from textpro.serve.cancel import Cancelled, CancelToken, Watch, stop_cancelled_rows
from textpro.serve.schemas import Generation
from textpro.serve.text_completion import CompletionJob, completed, generation_config, stop_at_strings
from textpro.text_llm import left_padded, pad_id

log = logging.getLogger("textpro.serve")


@dataclass
class ServedModel:
    pipeline: object  # textpro.pipeline.TextPro
    model_id: str
    description: str  # one line for /v1/models, /health and the startup log
    trained: bool


def load_model(model_dir: str | None = None, whisperpro: str | None = None) -> ServedModel:
    """--model DIR if given; else the embedded default when it has been built; else the untrained base models,
    which answer the transcript like the plain text LLM and hear no prosody (said in the id and description)."""
    from textpro.pipeline import DEFAULT_MODEL_DIR, TextPro
    from textpro.slm.config import CONFIG_NAME

    if model_dir is not None:
        path = Path(model_dir)
        return ServedModel(TextPro.from_pretrained(path, whisperpro=whisperpro), f"textpro-{path.resolve().name}",
                           f"TextPro-SLM checkpoint {path}", trained=True)
    if (DEFAULT_MODEL_DIR / CONFIG_NAME).is_file():
        return ServedModel(TextPro.from_pretrained(DEFAULT_MODEL_DIR), "textpro-default",
                           "the embedded default TextPro-SLM (mini recipe)", trained=True)
    return untrained_model(TextPro.untrained())


def untrained_model(pipeline) -> ServedModel:
    base = Path(pipeline.slm.config.base_llm).name
    return ServedModel(pipeline, f"textpro-untrained-{base}",
                       f"UNTRAINED: real {pipeline.slm.config.whisperpro} + {base} with a fresh projector (no trained "
                       "TextPro-SLM found; it answers the transcript like the text LLM and hears no prosody)",
                       trained=False)


def end_of_turn_ids(slm) -> list[int]:
    """The ids that end an answer (the generation config's eos and the tokenizer's)."""
    eos = slm.llm.generation_config.eos_token_id
    eos = [eos] if isinstance(eos, int) else list(eos or [])
    return sorted({*eos, slm.tokenizer.eos_token_id} - {None})


class Observer:
    """What the engine reports as it works; metrics.py records it (this default records nothing)."""

    def batch(self, jobs: list) -> None:
        """A batch starts on the model thread."""

    def first_token(self, job) -> None:
        """The first answer token of a chat job is out."""

    def dropped(self, token: CancelToken) -> None:
        """The model thread let go of a cancelled job (skipped it, or stopped its row)."""

    def idle_on_cancelled(self, seconds: float) -> None:
        """The model thread worked `seconds` while every row of its stage was already cancelled."""


@dataclass
class TranscribeJob:
    samples: np.ndarray  # mono 16 kHz float32, already checked
    cancel: CancelToken = field(default_factory=CancelToken)
    arrived: float = field(default_factory=time.monotonic)


@dataclass
class ChatJob:
    samples: np.ndarray
    prompt: str | None
    generation: Generation
    cancel: CancelToken = field(default_factory=CancelToken)
    arrived: float = field(default_factory=time.monotonic)


@dataclass
class StreamChatJob(ChatJob):
    """A chat whose answer goes out piece by piece. `emit(kind, value)` is called from the model thread with
    ("transcript", Transcribed), then ("text", piece) per piece; cancelling the token ends generation early."""

    emit: Callable[[str, object], None] = None


@dataclass
class Transcribed:
    transcript: object  # SpeechTokens
    analysis: dict  # analyze_clip(...): the API returns it as "textpro"


@dataclass
class ChatAnswer:
    heard: Transcribed
    answer: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" or "length"


class Engine:
    """Runs batches of jobs on one model. Called from a single worker thread: the model is never used twice at
    once, so there is nothing to lock. A cancelled job's result is a `Cancelled` exception."""

    def __init__(self, served: ServedModel, budget=None, observer: Observer | None = None):
        self.served = served
        self.pipeline = served.pipeline
        self.budget = budget  # limits.PromptBudget: the exact prompt is checked again once the transcript is known
        self.observer = observer or Observer()
        self.watch = Watch(on_idle=lambda seconds: self.observer.idle_on_cancelled(seconds))
        self.eos = set(end_of_turn_ids(self.pipeline.slm))
        self.batches_run = 0
        self.largest_batch = 0

    def run(self, jobs: list) -> list:
        self.batches_run += 1
        self.largest_batch = max(self.largest_batch, len(jobs))
        self.observer.batch(jobs)
        results: list = [None] * len(jobs)
        with self.watch.hooks(self.pipeline.transcriber.model, self.pipeline.slm.llm):
            if len(jobs) == 1 and isinstance(jobs[0], StreamChatJob):
                return [self._stream(jobs[0])]
            heard = self._hear(jobs, results)
            groups: dict[tuple, list[int]] = {}
            texts: dict[tuple, list[int]] = {}
            for i, job in enumerate(jobs):
                if isinstance(job, ChatJob) and results[i] is None:
                    results[i] = self._over_budget(heard[i], job)
                    if results[i] is None:
                        groups.setdefault(job.generation.key(), []).append(i)
                elif isinstance(job, CompletionJob):
                    texts.setdefault(job.generation.key(), []).append(i)
            for indices in groups.values():
                self._answer(jobs, heard, indices, results)
            for indices in texts.values():
                self._complete(jobs, indices, results)
        return results

    def _drop_cancelled(self, jobs: list, indices: list[int], results: list) -> list[int]:
        """The indices whose jobs are still wanted; the others get `Cancelled` as their result."""
        live = []
        for i in indices:
            if jobs[i].cancel.cancelled:
                if results[i] is None:
                    results[i] = Cancelled(f"cancelled ({jobs[i].cancel.reason})")
                    self.observer.dropped(jobs[i].cancel)
            else:
                live.append(i)
        return live

    def _hear(self, jobs: list, results: list) -> list:
        """WhisperPro on every job still wanted: a Transcribed per job (None for the cancelled)."""
        heard: list = [None] * len(jobs)
        spoken = [i for i, job in enumerate(jobs) if not isinstance(job, CompletionJob)]
        live = self._drop_cancelled(jobs, spoken, results)
        if not live:
            return heard
        tokens = [jobs[i].cancel for i in live]
        try:
            with self.watch.rows(tokens):  # a cancelled row leaves WhisperPro's decoding batch at the next step
                transcripts = self.pipeline.transcriber.transcribe(
                    [jobs[i].samples for i in live], max_seconds=None,
                    cancelled=[lambda token=token: token.cancelled for token in tokens])
        except Cancelled:
            self._drop_cancelled(jobs, live, results)
            return heard
        for i, transcript in zip(live, transcripts, strict=True):
            if transcript is None:  # cancelled while decoding
                continue
            heard[i] = Transcribed(transcript, analyze_clip(jobs[i].samples, transcript))
            if results[i] is None and isinstance(jobs[i], TranscribeJob):
                results[i] = heard[i]
        self._drop_cancelled(jobs, live, results)  # cancelled while WhisperPro ran: no LLM work for them
        return heard

    def _answer(self, jobs: list, heard: list, indices: list[int], results: list) -> None:
        """One LLM batch for chat jobs with equal decoding options."""

        def generate(live: list[int], stop_cancelled) -> list[str]:
            return self.pipeline.slm.generate([(heard[i].transcript, jobs[i].prompt) for i in live],
                                              stopping_criteria=StoppingCriteriaList([stop_cancelled]),
                                              **jobs[live[0]].generation.kwargs())

        self._llm_batch(jobs, indices, results, generate, lambda i, answer: self._answered(heard[i], jobs[i], answer))

    def _complete(self, jobs: list, indices: list[int], results: list) -> None:
        """One LLM batch for text completions with equal decoding options: the prompts' ids left-padded, as the
        local teacher's batches are (`text_llm.greedy_answers`)."""
        slm = self.pipeline.slm

        def generate(live: list[int], stop_cancelled) -> list[list[int]]:
            input_ids, mask = left_padded([jobs[i].prompt_ids for i in live], pad_id(slm.tokenizer))
            width = input_ids.shape[1]
            stop_strings = stop_at_strings([jobs[i].stop for i in live], slm.tokenizer, width)
            with torch.inference_mode():
                out = slm.llm.generate(input_ids=input_ids.to(slm.device), attention_mask=mask.to(slm.device),
                                       generation_config=generation_config(slm.llm, slm.tokenizer,
                                                                           jobs[live[0]].generation, self.eos),
                                       stopping_criteria=StoppingCriteriaList([stop_cancelled, stop_strings]))
            return out[:, width:].tolist()  # (B, new)

        self._llm_batch(jobs, indices, results, generate,
                        lambda i, tokens: completed(jobs[i], tokens, slm.tokenizer, self.eos))

    def _llm_batch(self, jobs: list, indices: list[int], results: list, generate, result_of) -> None:
        """`generate(live, stop_cancelled)` for the jobs still wanted (one output per row; stop_cancelled is the
        StoppingCriteria that stops a row whose job is cancelled), then `result_of(i, output)` per job."""
        live = self._drop_cancelled(jobs, indices, results)
        if not live:
            return
        tokens = [jobs[i].cancel for i in live]
        first = lambda: [self.observer.first_token(jobs[i]) for i in live]  # noqa: E731
        try:
            with self.watch.rows(tokens):
                outputs = generate(live, stop_cancelled_rows(tokens, first))
        except Cancelled:
            self._drop_cancelled(jobs, live, results)
            return
        for i, output in zip(live, outputs, strict=True):
            if results[i] is None and not jobs[i].cancel.cancelled:
                results[i] = result_of(i, output)
        self._drop_cancelled(jobs, live, results)

    def _stream(self, job: StreamChatJob) -> ChatAnswer | Exception:
        results = [None]
        heard = self._hear([job], results)[0]
        if heard is None:
            return results[0]
        error = self._over_budget(heard, job)
        if error is not None:
            return error
        job.emit("transcript", heard)
        try:
            with self.watch.rows([job.cancel]):
                answer = self.pipeline.slm.generate(
                    [(heard.transcript, job.prompt)], on_text=lambda piece: job.emit("text", piece),
                    stopping_criteria=StoppingCriteriaList(
                        [stop_cancelled_rows([job.cancel], lambda: self.observer.first_token(job))]),
                    **job.generation.kwargs())[0]
        except Cancelled as exc:
            self.observer.dropped(job.cancel)
            return exc
        if job.cancel.cancelled:
            self.observer.dropped(job.cancel)
            return Cancelled(f"cancelled ({job.cancel.reason})")
        return self._answered(heard, job, answer)

    def _over_budget(self, heard: Transcribed, job: ChatJob):
        """context_length_exceeded when the real prompt is longer than the admission estimate allowed (None if it
        fits): the LLM never runs on a prompt that cannot fit."""
        if self.budget is None:
            return None
        tokens = len(self.pipeline.slm.builder.prompt(heard.transcript, job.prompt).input_ids)
        return self.budget.overflow(tokens, job.generation.max_new_tokens)

    def _answered(self, heard: Transcribed, job: ChatJob, answer: str) -> ChatAnswer:
        slm = self.pipeline.slm
        prompt_tokens = len(slm.builder.prompt(heard.transcript, job.prompt).input_ids)
        completion_tokens = len(slm.tokenizer.encode(answer, add_special_tokens=False))
        finish = "length" if completion_tokens >= job.generation.max_new_tokens else "stop"
        return ChatAnswer(heard, answer, prompt_tokens, completion_tokens, finish)
