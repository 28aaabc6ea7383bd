"""Every error this application answers is application/problem+json (RFC 9457)."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from event_api.problems import problem

log = logging.getLogger("event_api.app")


async def on_invalid_request(request: Request, exc: RequestValidationError) -> Response:
    errors = [_error_item(error) for error in exc.errors()]
    detail = "; ".join(f"{e['parameter']}: {e['problem']}" for e in errors) or "Bad request"
    return problem(400, detail, errors=errors)


def _error_item(error: dict) -> dict:
    location = tuple(error.get("loc", ()))
    where = location[0] if location else "request"
    parameter = str(location[1]) if len(location) > 1 else where
    kind = error.get("type")
    text = {"extra_forbidden": "unknown parameter", "missing": "is required"}.get(
        kind, error.get("msg", "is invalid"))  # pydantic's message, never the input itself
    return {"parameter": f"{where} {parameter}" if where == "header" else parameter,
            "problem": text}


async def on_http_exception(request: Request, exc: HTTPException) -> Response:
    return problem(exc.status_code, exc.detail, headers=exc.headers)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    return answer_unexpected(exc)


def answer_unexpected(exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc)
    return problem(500, "Internal error")


HANDLERS = {
    RequestValidationError: on_invalid_request,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
