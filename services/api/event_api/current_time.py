"""What GET /current_time does once its input is valid: build the event, publish it, answer.

Shared by the FastAPI route (event_api/app.py) and the fast path in front of it
(event_api/current_time_fast_path.py), so both give the same answers, byte for byte."""

from __future__ import annotations

import logging

from starlette.responses import Response

from event_api import idempotency
from event_api.access_log import EVENT_ID_SCOPE_KEY
from event_api.events import build_event, to_record
from event_api.problems import problem
from event_api.publisher_protocol import Publisher, PublishError

log = logging.getLogger("event_api.app")

RETRY_AFTER_S = "2"
JSON_MEDIA_TYPE = "application/json"


async def answer_current_time(publisher: Publisher, scope: dict, name: str,
                              idempotency_key: str | None) -> Response:
    """`name` and `idempotency_key` are already validated."""
    if idempotency_key is None:
        event = build_event(name)
    else:
        derived = idempotency.derived_event_id(idempotency_key, name)
        event = build_event(name, id_factory=lambda: derived)
    scope[EVENT_ID_SCOPE_KEY] = event.event_id  # the access line names the event
    try:
        await publisher.publish(to_record(event))
    except PublishError as exc:
        log.warning(
            "event not acknowledged by Kafka; answering 503",
            extra={"fields": {"event_id": event.event_id, "reason": exc.reason,
                              "error": exc.detail}},
        )
        return problem(503, f"The event was not written: {exc.detail}. Retry later.",
                       headers={"Retry-After": RETRY_AFTER_S})
    return Response(event.response_json(), media_type=JSON_MEDIA_TYPE,
                    headers={"X-Event-Id": event.event_id})
