"""RFC 9457 problem details (application/problem+json): every error this service answers.

`problem` is the response the application returns; `raw_problem` is the same body as raw
HTTP/1.1 bytes, for the answers the server gives before any application code runs (a malformed
request, a request too slow to arrive, a connection over the cap)."""

from __future__ import annotations

import json
from http import HTTPStatus

from starlette.responses import JSONResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem_body(status: int, detail: str, errors: list[dict] | None = None) -> dict:
    body: dict = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
                  "detail": detail}
    if errors:
        body["errors"] = errors
    return body


def problem(
    status: int,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    errors: list[dict] | None = None,
) -> ProblemResponse:
    return ProblemResponse(problem_body(status, detail, errors), status_code=status,
                           headers=headers)


def raw_problem(status: int, detail: str, headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 response that closes the connection."""
    body = json.dumps(problem_body(status, detail), separators=(",", ":")).encode()
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
             f"content-type: {PROBLEM_MEDIA_TYPE}",
             f"content-length: {len(body)}",
             "connection: close",
             *(f"{name}: {value}" for name, value in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
