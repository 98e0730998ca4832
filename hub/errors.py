"""One shape for every error the API returns, and the handlers that produce it.

``{"detail": "<sentence>", "code": "<machine code>", "errors": [{"field": ..., "message": ...}],
"existing": {...}}`` — ``errors`` for bad input (which field, and why), ``existing`` for
duplicates (the record to open instead). Nothing unexpected ever leaks a stack trace: an
unhandled error is logged with a reference and answered with a 500 that gives the reference.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import Blocked, Conflict, CoreError, DuplicateError, Forbidden, NotFound, ValidationFailed
from core.users.auth import LoginFailed, LoginThrottled

log = logging.getLogger("crmhub.hub")

STATUS = {
    NotFound: 404,
    Forbidden: 403,
    ValidationFailed: 422,
    DuplicateError: 409,
    Conflict: 409,
    Blocked: 422,
    LoginFailed: 401,
    LoginThrottled: 429,
}


def status_of(exc: CoreError) -> int:
    """The HTTP status for a core error."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def core_error_body(exc: CoreError) -> dict[str, Any]:
    """The JSON body for a core error."""
    body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
    if isinstance(exc, ValidationFailed):
        body["errors"] = [{"field": p.field, "message": p.message} for p in exc.problems]
    if isinstance(exc, DuplicateError):
        body["existing"] = {
            "type": exc.existing.type,
            "id": exc.existing.id or None,
            "name": exc.existing.name,
            "matched_on": exc.existing.matched_on,
        }
    survivor = getattr(exc, "survivor_id", None)
    if survivor is not None:
        body["survivor_id"] = survivor
    return body


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    """Register the error handlers on the app."""

    @app.exception_handler(CoreError)
    async def _core(request: Request, exc: CoreError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, LoginThrottled) else None
        return JSONResponse(core_error_body(exc), status_code=status_of(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            msg = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
            errors.append({"field": _field_name(tuple(err.get("loc", ()))), "message": msg})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse({"detail": detail, "code": "invalid", "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed"
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "error"
        )
        return JSONResponse(
            {"detail": detail, "code": code}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        ref = uuid.uuid4().hex[:12]
        log.error("unhandled error ref=%s on %s %s", ref, request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            {"detail": f"Something went wrong on our side (reference {ref})", "code": "internal"}, status_code=500
        )
