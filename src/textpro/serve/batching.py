"""A small async micro-batcher: requests wait in a bounded queue; one worker takes up to `max_batch_size` of them
(waiting at most `wait_ms` for company when the model is idle) and runs them together in a worker thread.

While the model is busy, new requests pile up in the queue, so under load batches fill without any waiting; when
idle, a lone request waits only `wait_ms`. `max_batch_size=1` turns batching off (same queue, one at a time).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from textpro.serve.cancel import Cancelled, CancelToken

log = logging.getLogger("textpro.serve")


class QueueFull(Exception):
    """More requests are waiting than the queue holds."""


class ShuttingDown(Exception):
    """The server is draining before it exits: no new requests."""


@dataclass
class _Item:
    payload: object
    future: asyncio.Future
    solo: bool  # runs in a batch of its own (a streamed answer)

    @property
    def cancel(self) -> CancelToken:
        return self.payload.cancel

    def abandoned(self) -> bool:
        """Its caller gave up (timeout, disconnect) or its deadline passed while it waited."""
        return self.future.done() or self.cancel.cancelled


class _Line:
    """The waiting requests, in order. Unlike asyncio.Queue, requests whose callers gave up (timeout, disconnect)
    can be taken out when the line is full: they must not hold places for which live requests get 429."""

    def __init__(self, limit: int):
        self.limit = limit
        self.items: deque[_Item] = deque()
        self._arrived = asyncio.Event()

    def __len__(self) -> int:
        return len(self.items)

    def put(self, item: _Item, purge: Callable[[_Item], bool]) -> None:
        if len(self.items) >= self.limit:
            self.items = deque(i for i in self.items if not purge(i))
        if len(self.items) >= self.limit:
            raise QueueFull
        self.items.append(item)
        self._arrived.set()

    def get_nowait(self) -> _Item | None:
        return self.items.popleft() if self.items else None

    async def get(self, timeout: float | None = None) -> _Item | None:
        """The next item; None if none arrives within `timeout` seconds (None: wait as long as it takes)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self.items:
            self._arrived.clear()
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return None
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                return None
        return self.items.popleft()


class MicroBatcher:
    def __init__(self, run_batch: Callable[[list], list], max_batch_size: int = 8, wait_ms: float = 50.0,
                 max_queue: int = 64, on_dropped: Callable[[CancelToken], None] | None = None):
        """run_batch(payloads) -> results, in order; it runs in one worker thread, never twice at once. Each payload
        has a `cancel` token (cancel.py); a cancelled one waiting in the queue is skipped, and `on_dropped` told."""
        self.run_batch = run_batch
        self.on_dropped = on_dropped or (lambda token: None)
        self.max_batch_size = max_batch_size
        self.wait = wait_ms / 1000
        self.queue = _Line(max_queue)
        self._held: _Item | None = None  # a solo item met while filling a batch: it goes next
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="textpro-model")
        self._worker: asyncio.Task | None = None
        self._running: list[_Item] = []
        self.busy = False
        self.closing = False

    @property
    def waiting(self) -> int:
        return len(self.queue) + (self._held is not None)

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work(), name="textpro-batcher")

    def close(self, grace_seconds: float) -> None:
        """Begin draining (SIGTERM): refuse new requests at once, let the queued and running ones finish for
        `grace_seconds`, then cancel what is left. Call on the event loop."""
        if self.closing:
            return
        self.closing = True
        waiting = self.waiting + len(self._running)
        log.info("draining: %d request(s) in flight get %g s to finish", waiting, grace_seconds)
        asyncio.get_running_loop().call_later(grace_seconds, self.cancel_all)

    def cancel_all(self) -> None:
        """Cancel every queued and running request: each waiting caller gets `Cancelled` (reason "shutdown")."""
        for item in self._drain() + self._running:
            item.cancel.cancel("shutdown")
            if not item.future.done():
                item.future.set_exception(Cancelled("the server is shutting down"))

    async def stop(self) -> None:
        """Cancel every queued and running request, then wait for the model thread, which lets go within one
        step."""
        self.closing = True
        self.cancel_all()
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None
        # let a running batch finish: the model is not safe to share between threads, and a new server in the same
        # process (tests, benchmarks) may use it next
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)

    def submit(self, payload, *, solo: bool = False) -> asyncio.Future:
        """Queue one request; await the returned future for its result (cancel it to give up: a request that has
        not started is then skipped). Raises QueueFull at once when the queue is full."""
        if self.closing:
            raise ShuttingDown
        self.start()
        future = asyncio.get_running_loop().create_future()
        # its waiter may be gone (timeout, disconnect) when a result or error arrives: retrieve the exception here,
        # or asyncio logs a traceback per such request ("exception was never retrieved")
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.queue.put(_Item(payload, future, solo), purge=self._skip)
        return future

    def _drain(self) -> list[_Item]:
        items = [self._held] if self._held is not None else []
        self._held = None
        while (item := self.queue.get_nowait()) is not None:
            items.append(item)
        return items

    def _skip(self, item: _Item) -> bool:
        """True (and the request let go) when nobody waits for this item any more."""
        if not item.abandoned():
            return False
        item.cancel.cancel("timeout" if item.cancel.cancelled else "abandoned")
        self.on_dropped(item.cancel)
        return True

    async def _next_item(self, timeout: float | None = None) -> _Item | None:
        if self._held is not None:
            item, self._held = self._held, None
            return item
        return await self.queue.get(timeout)

    async def _collect(self) -> list[_Item]:
        first = await self._next_item()
        if self._skip(first):
            return []
        batch = [first]
        if first.solo:
            return batch
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        while len(batch) < self.max_batch_size:
            item = await self._next_item(timeout=deadline - loop.time())
            if item is None:
                break
            if self._skip(item):
                continue
            if item.solo:
                self._held = item
                break
            batch.append(item)
        return batch

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            if not batch:
                continue
            self.busy, self._running = True, batch
            try:
                results = await loop.run_in_executor(self._executor, self._run_isolated,
                                                     [item.payload for item in batch])
            finally:
                self.busy, self._running = False, []
            for item, result in zip(batch, results, strict=True):
                if item.future.done():
                    continue
                if isinstance(result, BaseException):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)

    def _run_isolated(self, payloads: list) -> list:
        """Results or exceptions, one per payload. When a batch fails, each payload runs alone, so one bad
        request fails only itself."""
        try:
            return list(self.run_batch(payloads))
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request, which maps it to a response
            if len(payloads) == 1 or isinstance(exc, Cancelled):
                return [exc] * len(payloads)
            log.warning("batch of %d failed (%s); running its requests one by one", len(payloads), exc)
        results = []
        for payload in payloads:
            if payload.cancel.cancelled:
                results.append(Cancelled(f"cancelled ({payload.cancel.reason})"))
                continue
            try:
                results.append(self.run_batch([payload])[0])
            except Exception as exc:  # noqa: BLE001
                results.append(exc)
        return results


class ContinuousBatcher(MicroBatcher):
    """The queue in front of a ContinuousEngine: requests join the running decode batch at its next step boundary
    (up to `max_batch_size` rows) instead of waiting for the batch to end; results arrive as rows end."""

    def __init__(self, engine, max_batch_size: int = 8, wait_ms: float = 50.0, max_queue: int = 64,
                 on_dropped: Callable[[CancelToken], None] | None = None):
        super().__init__(engine.advance, max_batch_size, wait_ms, max_queue, on_dropped)
        self.engine = engine
        self._pending: dict[int, _Item] = {}  # id(payload) -> item, from admission until its result

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()

        def deliver(payload, result) -> None:  # called from the model thread
            loop.call_soon_threadsafe(self._resolve, id(payload), result)

        def more_waiting() -> bool:  # read from the model thread: a length, no lock needed
            return len(self.queue) > 0 or self._held is not None

        while True:
            if self.engine.active:
                batch = self._admissible(self.max_batch_size - self.engine.active)
            else:
                batch = await self._collect()
            for item in batch:
                self._pending[id(item.payload)] = item
            self.busy, self._running = True, list(self._pending.values())
            try:
                await loop.run_in_executor(self._executor, self._advance, [item.payload for item in batch],
                                           deliver, more_waiting)
            finally:
                self.busy, self._running = bool(self.engine.active), list(self._pending.values())

    def _admissible(self, room: int) -> list[_Item]:
        """What waits now, up to `room` requests: no waiting for company while rows are decoding."""
        batch = []
        while len(batch) < room:
            item = self._held or self.queue.get_nowait()
            self._held = None
            if item is None:
                break
            if not self._skip(item):
                batch.append(item)
        return batch

    def _advance(self, payloads: list, deliver, more_waiting) -> None:
        try:
            self.engine.advance(payloads, deliver, more_waiting)
        except Exception as exc:  # noqa: BLE001 - every request in flight gets the error; the server keeps serving
            log.exception("continuous batch failed")
            for item in list(self._pending.values()):
                deliver(item.payload, exc)
            self.engine.rows, self.engine.cache, self.engine.mask = [], None, None

    def _resolve(self, key: int, result) -> None:
        item = self._pending.pop(key, None)
        if item is None or item.future.done():
            return
        if isinstance(result, BaseException):
            item.future.set_exception(result)
        else:
            item.future.set_result(result)
