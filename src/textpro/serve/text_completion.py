"""Text completions (POST /v1/completions) on the model thread: the served model's LLM continues the prompt's token
ids as they are, with no chat template and no audio (the client rendered the prompt, as for vLLM's completions),
so that `textpro distill --teacher-endpoint` can use `textpro serve` as its teacher.

Here: the job and its result, its decoding config and its stop strings. engine.py runs these jobs in micro-batches
beside chat jobs, continuous.py in the same decode batch as chat rows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from textpro.serve.cancel import CancelToken
from textpro.serve.schemas import Generation
from textpro.text_llm import greedy_config


@dataclass
class CompletionJob:
    prompt_ids: list[int]  # the prompt tokenized as the server's tokenizer does by default (checked against limits)
    generation: Generation
    stop: tuple[str, ...] = ()  # the answer ends before the first of these strings
    cancel: CancelToken = field(default_factory=CancelToken)
    arrived: float = field(default_factory=time.monotonic)


@dataclass
class Completion:
    text: str
    tokens: list[int]  # the ids generated, up to its end of turn (included) or its stop string
    prompt_tokens: int
    finish_reason: str  # "stop" (end of turn or a stop string) or "length"


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """The text before the earliest stop string (which OpenAI leaves out of the answer), and whether one occurs."""
    found = [at for at in (text.find(stop) for stop in stops) if at >= 0]
    return (text[:min(found)], True) if found else (text, False)


def reaches_stop(tokenizer, tokens: Sequence[int], stops: Sequence[str]) -> bool:
    return bool(stops) and cut_at_stop(tokenizer.decode(tokens, skip_special_tokens=True), stops)[1]


def completed(job: CompletionJob, tokens: Sequence[int], tokenizer, eos: set[int]) -> Completion:
    """A row's result from its generated ids (what follows its end of turn is padding)."""
    tokens = list(tokens)
    ended = next((n + 1 for n, token in enumerate(tokens) if token in eos), None)
    if ended is not None:
        tokens = tokens[:ended]
    if reaches_stop(tokenizer, tokens, job.stop):  # the ids up to the one that completed the stop string
        tokens = tokens[:next(n for n in range(1, len(tokens) + 1) if reaches_stop(tokenizer, tokens[:n], job.stop))]
    text, stopped = cut_at_stop(tokenizer.decode([t for t in tokens if t not in eos], skip_special_tokens=True),
                                job.stop)
    finish = "stop" if stopped or (tokens and tokens[-1] in eos) else "length"
    return Completion(text, tokens, len(job.prompt_ids), finish)


def generation_config(llm, tokenizer, generation: Generation, eos: set[int]):
    """Greedy (as the local teacher decodes, `text_llm.greedy_config`) or sampled with the request's temperature and
    top_p only; ending at the served model's end-of-turn ids."""
    config = greedy_config(llm, tokenizer, generation.max_new_tokens)
    if generation.do_sample:
        config.update(do_sample=True, temperature=generation.temperature, top_p=generation.top_p)
    config.eos_token_id = sorted(eos)
    return config


def stop_at_strings(stops: Sequence[Sequence[str]], tokenizer, prompt_width: int):
    """A transformers StoppingCriteria that finishes each row once its answer holds one of its stop strings."""
    import torch
    from transformers import StoppingCriteria

    class StopAtStrings(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            done = [reaches_stop(tokenizer, row[prompt_width:].tolist(), row_stops)
                    for row, row_stops in zip(input_ids, stops, strict=True)]
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return StopAtStrings()
