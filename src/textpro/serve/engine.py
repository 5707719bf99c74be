"""The model side of the server: which model is served, and how a micro-batch of requests runs on it.

A batch holds transcription and chat jobs together: one WhisperPro batch for all of their audio, then one LLM batch
per set of decoding options among the chat jobs. A streaming chat runs alone (its tokens go to one client).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from textpro.serve.analysis import prosody_readout
from textpro.serve.schemas import Generation

log = logging.getLogger("textpro.serve")
TEMPLATE_CACHE_LIMIT = 64


@dataclass
class ServedModel:
    pro: object  # textpro.pipeline.TextPro
    model_id: str
    description: str  # one line for /v1/models, /health and the startup log
    trained: bool


def load_model(model_dir: str | None = None) -> ServedModel:
    """--model DIR if given; else the embedded default when it has been built; else the untrained base models,
    which answer the transcript like the plain text LLM and hear no prosody (said in the id and description)."""
    from textpro.pipeline import DEFAULT_MODEL_DIR, TextPro
    from textpro.slm.config import CONFIG_NAME

    if model_dir is not None:
        path = Path(model_dir)
        return ServedModel(TextPro.from_pretrained(path), f"textpro-{path.resolve().name}",
                           f"TextPro-SLM checkpoint {path}", trained=True)
    if (DEFAULT_MODEL_DIR / CONFIG_NAME).is_file():
        return ServedModel(TextPro.from_pretrained(DEFAULT_MODEL_DIR), "textpro-default",
                           "the embedded default TextPro-SLM (mini recipe)", trained=True)
    return untrained_model(TextPro.untrained())


def untrained_model(pro) -> ServedModel:
    base = Path(pro.slm.config.base_llm).name
    return ServedModel(pro, f"textpro-untrained-{base}",
                       f"UNTRAINED: real {pro.slm.config.whisperpro} + {base} with a fresh projector (no trained "
                       "TextPro-SLM found; it answers the transcript like the text LLM and hears no prosody)",
                       trained=False)


@dataclass
class TranscribeJob:
    samples: np.ndarray  # mono 16 kHz float32, already checked


@dataclass
class ChatJob:
    samples: np.ndarray
    prompt: str | None
    generation: Generation


@dataclass
class StreamChatJob(ChatJob):
    """A chat whose answer goes out piece by piece. `emit(kind, value)` is called from the model thread with
    ("transcript", (SpeechTokens, readout)), then ("text", piece) per piece; `stop` ends generation early."""

    emit: Callable[[str, object], None] = None
    stop: threading.Event = field(default_factory=threading.Event)
    deadline: float = float("inf")  # time.monotonic() after which generation stops


@dataclass
class Heard:
    transcript: object  # SpeechTokens
    readout: dict  # prosody_readout(...)


@dataclass
class Answered:
    heard: Heard
    answer: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" or "length"


class Engine:
    """Runs batches of jobs on one model. Called from a single worker thread: the model is never used twice at
    once, so there is nothing to lock."""

    def __init__(self, served: ServedModel, budget=None):
        self.served = served
        self.pro = served.pro
        self.budget = budget  # limits.PromptBudget: the exact prompt is checked again once the transcript is known
        self.batches_run = 0
        self.largest_batch = 0

    def run(self, jobs: list) -> list:
        self.batches_run += 1
        self.largest_batch = max(self.largest_batch, len(jobs))
        # the LLM's prompt builder caches its template per instruction: with instructions from clients that cache
        # would grow with every distinct request, so it is emptied once it holds many
        templates = getattr(self.pro.slm.builder, "_templates", None)
        if templates is not None and len(templates) > TEMPLATE_CACHE_LIMIT:
            templates.clear()
        if len(jobs) == 1 and isinstance(jobs[0], StreamChatJob):
            return [self._stream(jobs[0])]
        transcripts = self.pro.transcriber.transcribe([job.samples for job in jobs], max_seconds=None)
        heard = [Heard(t, prosody_readout(job.samples, t)) for job, t in zip(jobs, transcripts, strict=True)]
        results: list = list(heard)
        groups: dict[tuple, list[int]] = {}
        for i, job in enumerate(jobs):
            if isinstance(job, ChatJob):
                error = self._over_budget(heard[i], job)
                if error is not None:
                    results[i] = error
                    continue
                groups.setdefault(job.generation.key(), []).append(i)
        for indices in groups.values():
            generation = jobs[indices[0]].generation
            answers = self.pro.slm.generate([(heard[i].transcript, jobs[i].prompt) for i in indices],
                                            **generation.kwargs())
            for i, answer in zip(indices, answers, strict=True):
                results[i] = self._answered(heard[i], jobs[i], answer)
        return results

    def _stream(self, job: StreamChatJob) -> Answered:
        from transformers import StoppingCriteria, StoppingCriteriaList

        transcript = self.pro.transcriber.transcribe(job.samples, max_seconds=None)
        heard = Heard(transcript, prosody_readout(job.samples, transcript))
        error = self._over_budget(heard, job)
        if error is not None:
            raise error
        job.emit("transcript", heard)

        class StopWhenAsked(StoppingCriteria):
            # the client went away or the request ran out of time: stop spending the CPU on it
            def __call__(self, input_ids, scores, **kwargs):
                import torch

                done = job.stop.is_set() or time.monotonic() > job.deadline
                return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

        answer = self.pro.slm.generate([(transcript, job.prompt)], on_text=lambda piece: job.emit("text", piece),
                                       stopping_criteria=StoppingCriteriaList([StopWhenAsked()]),
                                       **job.generation.kwargs())[0]
        return self._answered(heard, job, answer)

    def _over_budget(self, heard: Heard, job: ChatJob):
        """context_length_exceeded when the real prompt is longer than the admission estimate allowed (None if it
        fits): the LLM never runs on a prompt that cannot fit."""
        if self.budget is None:
            return None
        tokens = len(self.pro.slm.builder.prompt(heard.transcript, job.prompt).input_ids)
        return self.budget.overflow(tokens, job.generation.max_new_tokens)

    def _answered(self, heard: Heard, job: ChatJob, answer: str) -> Answered:
        slm = self.pro.slm
        prompt_tokens = len(slm.builder.prompt(heard.transcript, job.prompt).input_ids)
        completion_tokens = len(slm.tokenizer.encode(answer, add_special_tokens=False))
        finish = "length" if completion_tokens >= job.generation.max_new_tokens else "stop"
        return Answered(heard, answer, prompt_tokens, completion_tokens, finish)
