"""SIGTERM and SIGINT: drain before uvicorn's own shutdown.

uvicorn, on the signal, stops accepting connections and waits for open ones up to its graceful timeout, then
cancels their handlers (a client then gets a bare 500). We hook the same signals to close the batcher first: new
requests get 503 at once, queued and running ones have the grace period to finish, and what is left is cancelled
with a proper 503 (and Retry-After) before uvicorn's timeout, which `textpro serve` sets a little longer.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def drain_on_signals(batcher, grace_seconds: float):
    """While the block runs, the signals close `batcher` (then reach their previous handler, uvicorn's).
    Only the main thread can install handlers: elsewhere (tests' servers in threads) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}

    def handler(signum, frame):
        loop.call_soon_threadsafe(batcher.close, grace_seconds)
        chained = previous[signum]
        if callable(chained):
            chained(signum, frame)
        else:  # no server loop to stop: the signal's own action
            signal.signal(signum, chained)
            signal.raise_signal(signum)

    for sig in SIGNALS:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
