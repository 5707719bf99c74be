"""A request waiting for the model: until its result, its deadline, or its client leaving, whichever comes first.

Whatever ends the wait other than the result cancels the job's token, so the model thread lets it go within one
step (cancel.py) instead of finishing work nobody will read.
"""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request

from textpro.errors import TextproError
from textpro.serve.cancel import Cancelled, CancelToken
from textpro.serve.errors import APIError, from_textpro_error


async def client_gone(request: Request) -> None:
    """Returns when the client disconnects. The body has been read, so the next ASGI message is the disconnect."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def shutting_down() -> APIError:
    return APIError(503, "the server is shutting down; retry on another instance", code="shutting_down",
                    headers={"Retry-After": "1"})


def cancelled_error(token: CancelToken, timeout_seconds: float) -> APIError:
    if token.reason == "shutdown":
        return shutting_down()
    if token.reason == "disconnect":  # nobody reads this answer; it only ends the handler
        return APIError(400, "the client closed the connection", code="client_disconnected")
    return APIError(504, f"request timed out after {timeout_seconds:g} s", code="timeout")


async def outcome(future: asyncio.Future, token: CancelToken, request: Request | None, timeout_seconds: float):
    """The future's result; or, at the deadline or when the client leaves, the token cancelled and an APIError."""
    watcher = asyncio.ensure_future(client_gone(request)) if request is not None else None
    waiting = {future} if watcher is None else {future, watcher}
    try:
        done, _ = await asyncio.wait(waiting, timeout=max(0.0, token.deadline - time.monotonic()),
                                     return_when=asyncio.FIRST_COMPLETED)
        if future not in done:
            token.cancel("disconnect" if watcher in done else "timeout")
            future.cancel()
            raise cancelled_error(token, timeout_seconds)
        return future.result()
    except Cancelled:
        raise cancelled_error(token, timeout_seconds) from None
    except TextproError as exc:
        raise from_textpro_error(exc) from None
    except asyncio.CancelledError:  # the handler itself is cancelled (server shutdown past its grace period)
        token.cancel("shutdown")
        future.cancel()
        raise
    finally:
        if watcher is not None:
            watcher.cancel()
