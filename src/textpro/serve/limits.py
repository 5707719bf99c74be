"""Request body size limit, checked before anything reads the body into memory.

Pure ASGI rather than BaseHTTPMiddleware, so streamed responses pass through untouched.
"""

from __future__ import annotations

import json

from textpro.serve.errors import APIError, error_body


class BodySizeLimit:
    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._too_large(send)

        seen = 0

        async def counted_receive():
            # a chunked body has no Content-Length: count what arrives and stop it at the limit
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise APIError(413, self._message(), code="request_too_large")
            return message

        await self.app(scope, counted_receive, send)

    def _message(self) -> str:
        return f"request body larger than {self.max_bytes} bytes"

    async def _too_large(self, send):
        body = json.dumps(error_body(413, self._message(), code="request_too_large")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
