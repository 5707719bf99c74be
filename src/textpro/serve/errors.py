"""Every failure leaves the server as JSON in OpenAI's error shape, so OpenAI clients raise their usual exceptions:

    {"error": {"message": "...", "type": "invalid_request_error", "param": "messages", "code": "invalid_audio"}}
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from textpro.errors import AudioError, ConfigError, TextproError

log = logging.getLogger("textpro.serve")

# OpenAI's `type` for each status this server sends
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    502: "server_error",
    503: "server_error",
    504: "timeout_error",
}


class APIError(Exception):
    """A request that cannot be served, with the HTTP status and the fields of OpenAI's error object."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.headers = status, message, param, code, headers

    def body(self) -> dict:
        return error_body(self.status, self.message, param=self.param, code=self.code)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(status: int, message: str, *, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": ERROR_TYPES.get(status, "invalid_request_error"),
                      "param": param, "code": code}}


def from_textpro_error(exc: TextproError, param: str | None = None) -> APIError:
    """Audio and configuration errors are the caller's input (400); a model error is ours (500)."""
    if isinstance(exc, AudioError):
        return APIError(400, str(exc), param=param, code="invalid_audio")
    if isinstance(exc, ConfigError):
        return APIError(400, str(exc), param=param, code="invalid_value")
    return APIError(500, str(exc), code="model_error")


def _location(loc: tuple) -> str | None:
    """pydantic's ('body', 'messages', 0, 'content') -> 'messages[0].content' (OpenAI's `param` style)."""
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def api_error(request: Request, exc: APIError):
        return exc.response()

    @app.exception_handler(TextproError)
    async def textpro_error(request: Request, exc: TextproError):
        return from_textpro_error(exc).response()

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        # FastAPI answers 422; OpenAI answers 400 for a body it cannot use, and clients expect that
        errors = exc.errors()
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            return APIError(400, "the request body is not valid JSON", code="invalid_json").response()
        loc = tuple(first.get("loc", ()))
        if loc == ("body",):  # the body parsed but is not an object (or was sent without a JSON content type)
            return APIError(400, "the request body must be a JSON object", code="invalid_json").response()
        param = _location(loc)
        message = first.get("msg", "invalid request")
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        return APIError(400, f"{param}: {message}" if param else message, param=param,
                        code="invalid_request").response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        codes = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
        return APIError(exc.status_code, str(exc.detail), code=codes.get(exc.status_code),
                        headers=getattr(exc, "headers", None)).response()

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        # a bug must not take the server down: log the traceback, answer 500, keep serving
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return APIError(500, f"internal error: {type(exc).__name__}", code="internal_error").response()
