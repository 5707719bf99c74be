"""Continuous batching (iteration-level scheduling, as vLLM does) for the LLM: `textpro serve --continuous-batching`.

One decode batch lives across requests. At each step boundary the model thread admits waiting requests (WhisperPro
on their audio, one left-padded prefill, then their KV caches are merged into the batch's, padded on the left), and
a row leaves the batch as soon as it ends (end of turn, max_tokens, or its request cancelled): no row rides along
until the longest answer ends. Streamed and non-streamed requests share the batch, and so do text completions
(text_completion.py: their prompt's ids are prefilled as they are, no WhisperPro, no chat template).

Each row decodes as it would alone: its own positions, padding masked, the placeholder token suppressed, greedy
unless its request asks for a temperature (then its own temperature and top_p), as transformers' generate does.
A text completion's row is the plain LLM's: the placeholder token is not suppressed for it, and it also ends at
its stop strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from transformers import DynamicCache

from textpro.serve.cancel import Cancelled
from textpro.serve.engine import ChatJob, Engine, StreamChatJob, Transcribed, TranscribeJob
from textpro.serve.text_completion import CompletionJob, completed, reaches_stop
from textpro.slm.model import TextPieces
from textpro.text_llm import left_padded, pad_id


@dataclass
class Row:
    job: ChatJob | CompletionJob
    heard: Transcribed | None  # None for a text completion
    position: int  # position id of the next token fed
    tokens: list[int] = field(default_factory=list)
    pieces: TextPieces | None = None  # a streamed request's text pieces
    gate: float = 1.0  # its share of the LoRA adapter, set from its prompt where the model has an adapter gate


class ContinuousEngine(Engine):
    """An Engine whose `advance(new_jobs, deliver)` admits jobs and decodes until every row has ended or
    `more_waiting()` says new requests should be admitted. Results go to `deliver(job, result)` as rows end."""

    def __init__(self, served, budget=None, observer=None, max_rows: int = 8):
        super().__init__(served, budget, observer)
        self.slm = self.pipeline.slm
        self.llm = self.slm.llm
        self.max_rows = max_rows
        # free rows needed before decoding pauses to admit: WhisperPro and the prefill cost far more per request
        # when run for one request than for several, so a full batch admits in groups of half its size
        self.admit_at = max(1, max_rows // 2)
        self.rows: list[Row] = []
        self.cache: DynamicCache | None = None
        self.mask: torch.Tensor | None = None  # (B, L) 1 = real position

    @property
    def active(self) -> int:
        return len(self.rows)

    # ---- the model thread's loop ---------------------------------------------------------------------------------
    def advance(self, jobs: list, deliver: Callable[[object, object], None],
                more_waiting: Callable[[], bool] = lambda: False) -> None:
        self.batches_run += 1
        if jobs:
            self.observer.batch(jobs)
        with self.watch.hooks(self.pipeline.transcriber.model, self.llm), torch.inference_mode():
            self._admit(jobs, deliver)
            self.largest_batch = max(self.largest_batch, len(self.rows))
            while self.rows and not (more_waiting() and self.max_rows - len(self.rows) >= self.admit_at):
                self._step(deliver)

    def _admit(self, jobs: list, deliver) -> None:
        results: list = [None] * len(jobs)
        heard = self._hear(jobs, results)
        texts = self._drop_cancelled(jobs, [i for i, job in enumerate(jobs) if isinstance(job, CompletionJob)],
                                     results)
        chats = []
        for i, job in enumerate(jobs):
            if isinstance(job, ChatJob) and results[i] is None:
                results[i] = self._over_budget(heard[i], job)
                if results[i] is None:
                    chats.append(i)
                    continue
            if isinstance(job, TranscribeJob) or results[i] is not None:
                deliver(job, results[i])
        for i in chats:
            if isinstance(jobs[i], StreamChatJob):
                jobs[i].emit("transcript", heard[i])
        if chats or texts:
            self._prefill([Row(jobs[i], heard[i], 0) for i in chats + texts], deliver)

    def _prompts(self, rows: list[Row]) -> tuple[torch.Tensor, torch.Tensor]:
        """(embeds (B, L, d_llm), mask (B, L)) of the rows' prompts, left-padded together: a chat's built around its
        transcript and prosody, a text completion's its prompt ids' embeddings. The rows are chats first."""
        parts = []
        chats = [row for row in rows if row.heard is not None]
        if chats:
            batch = self.slm.builder.build_generation_batch([(row.heard.transcript, row.job.prompt) for row in chats])
            batch = {k: v.to(self.slm.device) for k, v in batch.items()}
            self._route(chats, batch["input_ids"], batch["attention_mask"])
            parts.append((self.slm.embed(batch["input_ids"], batch["prosody_vectors"], batch["prosody_mask"]),
                          batch["attention_mask"]))
        if len(chats) < len(rows):
            ids, mask = left_padded([row.job.prompt_ids for row in rows[len(chats):]], pad_id(self.slm.tokenizer))
            ids, mask = ids.to(self.slm.device), mask.to(self.slm.device)
            self._route(rows[len(chats):], ids, mask)
            parts.append((self.llm.get_input_embeddings()(ids), mask))
        width = max(mask.shape[1] for _, mask in parts)
        return (torch.cat([_pad_left(embeds, width, -2) for embeds, _ in parts]),
                torch.cat([_pad_left(mask, width, -1) for _, mask in parts]))

    def _route(self, rows: list[Row], ids: torch.Tensor, mask: torch.Tensor) -> None:
        """Each row's share of the adapter from its prompt (an adapter gate's router; nothing without one)."""
        if self.slm.gate is not None:
            self.slm.route(ids, mask.bool())
            for row, value in zip(rows, self.slm.gate.values.tolist(), strict=True):
                row.gate = value

    def _gates(self, rows: list[Row]) -> None:
        """The adapter gate's values for the pass that comes next: one per row, in the batch's row order."""
        if self.slm.gate is not None:
            self.slm.gate.values = torch.tensor([row.gate for row in rows], device=self.slm.device)

    def _prefill(self, rows: list[Row], deliver) -> None:
        """The new rows' prompts in one left-padded pass; their caches joined to the batch's; their first tokens."""
        embeds, mask = self._prompts(rows)
        self._gates(rows)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache(config=self.llm.config)
        try:
            with self.watch.rows([row.job.cancel for row in rows]):
                # logits_to_keep=1: the vocabulary projection of the last position only, as generate does (over
                # every prompt position it is a fifth of SmolLM2-135M's prefill arithmetic, and a (B, L, vocab) tensor)
                logits = self.llm(inputs_embeds=embeds, attention_mask=mask, position_ids=positions,
                                  cache=cache, use_cache=True, logits_to_keep=1).logits[:, -1]
        except Cancelled:
            for row in rows:
                self._leave(row, deliver)
            return
        for i, row in enumerate(rows):
            row.position = int(mask[i].sum())
            if isinstance(row.job, StreamChatJob):
                row.pieces = TextPieces(self.slm.tokenizer, lambda piece, job=row.job: job.emit("text", piece),
                                        skip_prompt=False)
        self._join(rows, cache, mask)
        first = self._choose(logits, rows)
        self._record(rows, first, deliver)

    def _join(self, rows: list[Row], cache: DynamicCache, mask: torch.Tensor) -> None:
        if not self.rows:
            self.rows, self.cache, self.mask = list(rows), cache, mask
            return
        width = max(self.mask.shape[1], mask.shape[1])
        for old, new in zip(self.cache.layers, cache.layers, strict=True):
            old.keys = torch.cat([_pad_left(old.keys, width, -2), _pad_left(new.keys, width, -2)])
            old.values = torch.cat([_pad_left(old.values, width, -2), _pad_left(new.values, width, -2)])
        self.mask = torch.cat([_pad_left(self.mask, width, -1), _pad_left(mask, width, -1)])
        self.rows += rows

    def _step(self, deliver) -> None:
        """One token for every row; rows that end (or were cancelled) leave the batch."""
        self._drop(lambda row: row.job.cancel.cancelled, deliver)
        if not self.rows:
            return
        device = self.mask.device
        fed = torch.tensor([[row.tokens[-1]] for row in self.rows], device=device)
        mask = torch.cat([self.mask, torch.ones((len(self.rows), 1), dtype=self.mask.dtype, device=device)], dim=1)
        positions = torch.tensor([[row.position] for row in self.rows], device=device)
        self._gates(self.rows)
        try:
            with self.watch.rows([row.job.cancel for row in self.rows]):
                logits = self.llm(input_ids=fed, attention_mask=mask, position_ids=positions,
                                  cache=self.cache, use_cache=True).logits[:, -1]
        except Cancelled:
            self._drop(lambda row: True, deliver)
            return
        self.mask = mask
        for row in self.rows:
            row.position += 1
        self._record(list(self.rows), self._choose(logits, self.rows), deliver)

    # ---- tokens --------------------------------------------------------------------------------------------------
    def _choose(self, logits: torch.Tensor, rows: list[Row]) -> list[int]:
        """Greedy, or sampled with the row's temperature and top_p; the placeholder token never in a chat."""
        logits = logits.float()
        chats = [i for i, row in enumerate(rows) if row.heard is not None]
        if chats:
            logits[chats, self.slm.placeholder_id] = float("-inf")
        chosen = logits.argmax(-1).tolist()
        for i, row in enumerate(rows):
            generation = row.job.generation
            if generation.do_sample:
                chosen[i] = _sample(logits[i], generation.temperature, generation.top_p)
        return chosen

    def _record(self, rows: list[Row], tokens: list[int], deliver) -> None:
        for row, token in zip(rows, tokens, strict=True):
            if not row.tokens:
                self.observer.first_token(row.job)
            row.tokens.append(token)
            if row.pieces is not None and token not in self.eos:
                row.pieces.put(torch.tensor([token]))
        self._drop(lambda row: row.tokens[-1] in self.eos
                   or len(row.tokens) >= row.job.generation.max_new_tokens
                   or (isinstance(row.job, CompletionJob) and reaches_stop(self.slm.tokenizer, row.tokens,
                                                                           row.job.stop)), deliver)

    def _drop(self, ends: Callable[[Row], bool], deliver) -> None:
        """Take the rows for which `ends(row)` out of the batch (their cache rows too) and deliver their results."""
        keep = [i for i, row in enumerate(self.rows) if not ends(row)]
        if len(keep) == len(self.rows):
            return
        for i, row in enumerate(self.rows):
            if i not in keep:
                self._leave(row, deliver)
        self.rows = [self.rows[i] for i in keep]
        if not self.rows:
            self.cache = self.mask = None
            return
        index = torch.tensor(keep, device=self.mask.device)
        self.mask = self.mask.index_select(0, index)
        start = int(self.mask.any(0).nonzero()[0])  # columns that are padding in every remaining row go too
        self.mask = self.mask[:, start:]
        for layer in self.cache.layers:
            layer.keys = layer.keys.index_select(0, index)[..., start:, :]
            layer.values = layer.values.index_select(0, index)[..., start:, :]

    def _leave(self, row: Row, deliver) -> None:
        if row.job.cancel.cancelled:
            self.observer.dropped(row.job.cancel)
            deliver(row.job, Cancelled(f"cancelled ({row.job.cancel.reason})"))
            return
        if isinstance(row.job, CompletionJob):
            deliver(row.job, completed(row.job, row.tokens, self.slm.tokenizer, self.eos))
            return
        if row.pieces is not None:
            row.pieces.end()
        answer = self.slm.tokenizer.decode([t for t in row.tokens if t not in self.eos],
                                           skip_special_tokens=True).strip()
        deliver(row.job, self._answered(row.heard, row.job, answer))


def _pad_left(tensor: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    missing = width - tensor.shape[dim]
    if missing == 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([torch.zeros(shape, dtype=tensor.dtype, device=tensor.device), tensor], dim=dim)


def _sample(logits: torch.Tensor, temperature: float, top_p: float) -> int:
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        ordered, order = probs.sort(descending=True)
        outside = ordered.cumsum(-1) - ordered > top_p  # keep the smallest set whose mass reaches top_p
        ordered[outside] = 0.0
        probs = torch.zeros_like(probs).scatter(0, order, ordered)
    return int(torch.multinomial(probs / probs.sum(), 1))
