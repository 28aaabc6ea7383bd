"""A thin path for the hot request, GET /current_time with valid input, before FastAPI's stack.

FastAPI's routing, dependency solving and exception middlewares cost more CPU per request than
the rest of the application together (profile in bench/RESULTS.md, "Ingest"). This layer
answers only requests that FastAPI would certainly accept, checked against the same
declarations (the event schema's `name` rules, the Idempotency-Key pattern), and hands every
other request to FastAPI unchanged: the route stays declared there, so the OpenAPI document,
the 400/405 problem+json answers and the strict query check are FastAPI's own. Whatever this
layer answers is built by the same function as the route's answer (event_api/current_time.py).
"""

from __future__ import annotations

import re
import time

from event_api import idempotency
from event_api.access_log import EVENT_ID_SCOPE_KEY, log_request
from event_api.api_models import NAME_RULES
from event_api.current_time import answer_current_time
from event_api.error_handlers import answer_unexpected
from event_api.publisher_protocol import Publisher

PATH = "/current_time"
_QUERY_PREFIX = b"name="
# Bytes that percent-decoding and form decoding leave as they are, and that no parser splits
# on: a value made only of them is the same before and after decoding.
_UNCHANGED_BY_DECODING = re.compile(rb"[A-Za-z0-9._~-]+")
_IDEMPOTENCY_HEADER = idempotency.HEADER.lower().encode("latin-1")


def _rule_check(pattern: str, min_length: int, max_length: int):
    compiled = re.compile(pattern)

    def valid(value: str) -> bool:
        # pydantic searches the pattern (it is anchored with ^...$) and counts characters.
        return min_length <= len(value) <= max_length and compiled.search(value) is not None

    return valid


_valid_name = _rule_check(NAME_RULES["pattern"], NAME_RULES["minLength"], NAME_RULES["maxLength"])
_valid_idempotency_key = _rule_check(idempotency.PATTERN, 0, idempotency.MAX_LENGTH)


def valid_input(scope: dict) -> tuple[str, str | None] | None:
    """(name, Idempotency-Key or None) if FastAPI would accept this request as it is; None when
    in any doubt (then FastAPI decides, and answers the 400 if there is one)."""
    query = scope["query_string"]
    if not query.startswith(_QUERY_PREFIX):
        return None
    raw = query[len(_QUERY_PREFIX):]
    if _UNCHANGED_BY_DECODING.fullmatch(raw) is None:  # another parameter, %XX, +, or empty
        return None
    name = raw.decode("ascii")
    if not _valid_name(name):
        return None
    key = None
    for header, value in scope["headers"]:
        if header == _IDEMPOTENCY_HEADER:
            if key is not None:  # repeated: FastAPI decides
                return None
            key = value.decode("latin-1")  # how Starlette decodes header values
    if key is not None and not _valid_idempotency_key(key):
        return None
    return name, key


class CurrentTimeFastPath:
    """Answers valid GET /current_time requests without FastAPI's stack, and logs them like the
    access log middleware does (event_api/access_log.py). `EventApi` (event_api/app.py) asks it
    first; it answers None to everything it leaves to FastAPI."""

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    def check(self, scope: dict) -> tuple[str, str | None] | None:
        if scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "GET":
            return valid_input(scope)
        return None

    async def answer(self, scope, receive, send, checked: tuple[str, str | None]) -> None:
        started = time.perf_counter()
        status = 500
        try:
            try:
                response = await answer_current_time(self._publisher, scope, *checked)
            except Exception as exc:  # noqa: BLE001 - the same 500 as FastAPI's handler
                response = answer_unexpected(exc)
            await response(scope, receive, send)
            status = response.status_code
        finally:
            event_id = scope.get(EVENT_ID_SCOPE_KEY)
            if event_id:
                log_request("GET", PATH, status, started, event_id=event_id)
            else:
                log_request("GET", PATH, status, started)
