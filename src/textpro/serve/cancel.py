"""Cancellation: a request that times out, whose client leaves, or that shutdown drops stops costing the model within
one step.

Each job carries a CancelToken (set by the request's side, or by its deadline passing). The model thread looks at
the tokens of the rows it is working on:

- before a batch starts, cancelled jobs are skipped;
- at every layer of WhisperPro and of the LLM (forward pre-hooks), when every row of the running stage is
  cancelled, the stage stops at once with `Cancelled`: within one layer, a long prefill included;
- after every LLM step (a StoppingCriteria), a cancelled row is finished: it generates no more tokens and the batch
  ends as soon as its live rows do. transformers' generate keeps a finished row's slot in the batch's tensors until
  the batch ends (it is padding from then on); continuous batching would take it out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager

from torch import nn


class Cancelled(Exception):
    """The request was cancelled (timed out, its client left, or the server is shutting down)."""


class CancelToken:
    """Set once, from any thread. `cancelled` also turns true by itself when the deadline passes."""

    def __init__(self, deadline: float = float("inf")):
        self.deadline = deadline  # time.monotonic()
        self.reason: str | None = None  # "timeout", "disconnect", "shutdown"
        self.at: float | None = None  # time.monotonic() when it was cancelled
        self._lock = threading.Lock()

    def cancel(self, reason: str, at: float | None = None) -> bool:
        """True if this call cancelled it (False: it already was)."""
        with self._lock:
            if self.reason is not None:
                return False
            self.reason, self.at = reason, time.monotonic() if at is None else at
            return True

    @property
    def cancelled(self) -> bool:
        if self.reason is None and time.monotonic() > self.deadline:
            self.cancel("timeout", at=self.deadline)
        return self.reason is not None


def _layers(model: nn.Module) -> list[nn.Module]:
    """The repeated blocks of a model (encoder and decoder layers): every module held in an nn.ModuleList."""
    return [layer for module in model.modules() if isinstance(module, nn.ModuleList) for layer in module]


class Watch:
    """The model thread's view of the rows it is working on. `on_idle(seconds)` is told how long the thread worked
    while every one of its rows was already cancelled (at most one layer)."""

    def __init__(self, on_idle: Callable[[float], None] | None = None):
        self.tokens: list[CancelToken] = []
        self.on_idle = on_idle

    def check(self, *_) -> None:
        tokens = self.tokens
        if tokens and all(token.cancelled for token in tokens):
            if self.on_idle is not None:
                self.on_idle(max(0.0, time.monotonic() - max(token.at for token in tokens)))
            raise Cancelled("every request of the batch was cancelled")

    @contextmanager
    def rows(self, tokens: Sequence[CancelToken]):
        """The rows of the stage that runs inside this block."""
        previous, self.tokens = self.tokens, list(tokens)
        try:
            yield
        finally:
            self.tokens = previous

    @contextmanager
    def hooks(self, *models: nn.Module):
        """Checks before every layer of `models` while the block runs (hooks are removed after: the models may be
        shared with other servers in the same process)."""
        handles = [layer.register_forward_pre_hook(self.check) for model in models for layer in _layers(model)]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()


def stop_cancelled_rows(tokens: Sequence[CancelToken], on_first_step: Callable[[], None] | None = None):
    """A transformers StoppingCriteria that finishes each row whose request is cancelled, checked after every step.
    on_first_step: called once, after the first token (time to first token)."""
    import torch
    from transformers import StoppingCriteria

    class StopCancelledRows(StoppingCriteria):
        def __init__(self):
            self.first = True

        def __call__(self, input_ids, scores, **kwargs):
            if self.first and on_first_step is not None:
                self.first = False
                on_first_step()
            done = [token.cancelled for token in tokens]
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return StopCancelledRows()
