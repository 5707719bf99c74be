"""The base of the server's pure-ASGI middlewares (a BaseHTTPMiddleware would buffer streamed responses)."""

from __future__ import annotations


class HTTPMiddleware:
    """Sees HTTP requests only: lifespan and websocket messages go straight to the app. Subclasses define `http`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        return await self.http(scope, receive, send)

    async def http(self, scope, receive, send):
        raise NotImplementedError
