"""Every failure becomes a JSON ``{"error": "..."}`` (an error page for a dashboard page) with
a 4xx or 5xx status and one line of text, never a traceback: our own errors map by kind (not
found → 404, bad input → 400, a conflict → 409, a busy store → 503), malformed parameters →
400 naming the parameter (the value is not echoed), anything unexpected → 500 "internal error"
with the details in the log.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from autotrader.core.errors import (
    AutotraderError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TemporaryError,
)
from autotrader.server.encoding import ApiResponse
from autotrader.server.pages._render import page

log = logging.getLogger(__name__)

_STATUS = ((NotFoundError, 404), (InvalidInputError, 400), (ConflictError, 409))


def _error(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """JSON for the API, an HTML page for a dashboard page."""
    if request.url.path.startswith(("/api/", "/static/", "/openapi")):
        return ApiResponse({"error": message}, status_code=status, headers=headers)
    response = page(request, "error.html", f"Error {status}", message=message)
    response.status_code = status
    if headers:
        response.headers.update(headers)
    return response


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AutotraderError)
    async def ours(request: Request, exc: AutotraderError) -> Response:
        for kind, status in _STATUS:
            if isinstance(exc, kind):
                return _error(request, status, str(exc))
        if isinstance(exc, TemporaryError):
            return _error(request, 503, str(exc), {"retry-after": "1"})
        log.error("request %s failed: %s", request.url.path, exc)
        return _error(request, 500, "internal error (see the server log)")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            problems.append(f"{where}: {error.get('msg', 'invalid')}")
        return _error(request, 400, "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        return _error(request, exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("request %s failed: %s: %s", request.url.path, type(exc).__name__, exc)
        return _error(request, 500, "internal error (see the server log)")
