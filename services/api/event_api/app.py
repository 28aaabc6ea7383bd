"""The FastAPI application: routes, problem+json errors, the publisher's lifespan, and the OpenAPI
document generated from the same types that validate the requests (event_api/api_models.py)."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import Response

from event_api import idempotency
from event_api.access_log import AccessLogMiddleware
from event_api.api_models import NAME_RULES, CurrentTime, Message, Problem, Status
from event_api.current_time import RETRY_AFTER_S, answer_current_time
from event_api.current_time_fast_path import CurrentTimeFastPath
from event_api.error_handlers import HANDLERS
from event_api.logging_setup import configure_logging
from event_api.openapi_document import openapi_document
from event_api.problems import problem
from event_api.publisher_protocol import DisabledPublisher, Publisher
from event_api.settings import Settings, load_settings
from event_api.strict_query import StrictQueryParameters

DESCRIPTION = """\
Greets a name and writes each greeting durably to Kafka as an event.

* Every operation rejects unknown or repeated query parameters with 400.
* Errors are `application/problem+json` (RFC 9457).
* Only the documented methods exist: `HEAD` (and anything but `GET`) is answered 405 on every path,
  so `HEAD /current_time` writes nothing.
* No redirects: `/hello/` is 404, never a redirect built from the `Host` header.

**Delivery is at least once.** `GET /current_time` answers 200 only after Kafka acknowledged the
event (acks=all). A 503 means the event was not confirmed written, but it may still be written
later; retry with the same `Idempotency-Key` so that the duplicate carries the same `event_id`.
Consumers keep the first event with a given `event_id` and drop the others.
"""

_JSON = "application/json"
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.",
                               "schema": {"type": "integer", "minimum": 0}}}
BAD_REQUEST = {400: {"model": Problem, "description": "Bad input: an unknown, repeated, "
                     "missing or invalid query parameter or header."}}


class EventApi(FastAPI):
    """FastAPI, with the thin path for valid GET /current_time requests tried before its
    middleware stack (event_api/current_time_fast_path.py); None turns it off."""

    fast_path: CurrentTimeFastPath | None = None

    async def __call__(self, scope, receive, send) -> None:
        fast_path = self.fast_path
        if fast_path is not None:
            checked = fast_path.check(scope)
            if checked is not None:
                await fast_path.answer(scope, receive, send, checked)
                return
        await super().__call__(scope, receive, send)


def build_app(publisher: Publisher) -> EventApi:
    """The app around any Publisher (unit tests pass a test double)."""

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await publisher.start()
        try:
            yield
        finally:
            await publisher.close()

    app = EventApi(
        title="Event API", version="1.0.0", description=DESCRIPTION,
        openapi_url=None, docs_url=None, redoc_url=None,  # served below, without a UI
        redirect_slashes=False,  # issue 15.8: a slash redirect echoed the Host header
        # No OpenTelemetry here: FastAPI's native telemetry looked up its providers on every
        # request (bench/RESULTS.md, profile).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        lifespan=lifespan,
        exception_handlers=HANDLERS,
    )
    _add_routes(app, publisher)
    app.add_middleware(StrictQueryParameters, routes=app.routes)
    app.add_middleware(AccessLogMiddleware)  # outermost: it logs the 400s above too
    app.fast_path = CurrentTimeFastPath(publisher)
    return app


def _add_routes(app: FastAPI, publisher: Publisher) -> None:
    # The hot path first: the router tries routes in order.
    @app.get(
        "/current_time",
        summary="Greet NAME and write the event to Kafka; 200 only after Kafka acknowledged it "
                "(acks=all).",
        description="Writes one event per request. HEAD is 405 and writes nothing. "
                    "Delivery is at least once: see `Idempotency-Key`.",
        response_model=CurrentTime,
        responses={
            200: {"description": "The event was acknowledged by Kafka.",
                  "headers": {"X-Event-Id": {"description": "The event's id: a UUIDv7, or the "
                                             "UUIDv5 derived from Idempotency-Key.",
                                             "schema": {"type": "string", "format": "uuid"}}}},
            **BAD_REQUEST,
            503: {"model": Problem, "headers": RETRY_AFTER,
                  "description": "The event was NOT confirmed written (Kafka unreachable, too "
                                 "slow, refused the write, or disabled). It may still be written "
                                 "later: retry with the same Idempotency-Key."},
        },
    )
    async def current_time(
        request: Request,
        name: Annotated[str, Query(
            min_length=NAME_RULES["minLength"], max_length=NAME_RULES["maxLength"],
            pattern=NAME_RULES["pattern"],
            description="Who to greet; also the Kafka record key (one name's events stay in "
                        "order).")],
        # Typed `str` with a None default: an optional header is absent, never JSON null.
        idempotency_key: Annotated[str, Header(
            alias=idempotency.HEADER, pattern=idempotency.PATTERN,
            max_length=idempotency.MAX_LENGTH, description=idempotency.DESCRIPTION)] = None,  # type: ignore[assignment]
    ) -> Response:
        if idempotency_key is not None and len(request.headers.getlist(idempotency.HEADER)) > 1:
            # FastAPI would take the first copy; two keys are not one logical request (27.3).
            item = {"parameter": f"header {idempotency.HEADER}", "problem": "given more than once"}
            return problem(400, f"{item['parameter']}: {item['problem']}", errors=[item])
        return await answer_current_time(publisher, request.scope, name, idempotency_key)

    @app.get("/healthcheck", summary="Liveness (no dependency checks).", response_model=Status,
             responses=BAD_REQUEST)
    async def healthcheck() -> Response:
        return Response(b'{"status":"ok"}', media_type=_JSON)

    @app.get("/readyz", summary="Readiness: connected to Kafka and the topic exists.",
             response_model=Status,
             responses={**BAD_REQUEST, 503: {
                 "model": Problem, "headers": RETRY_AFTER,
                 "description": "Not ready: Kafka unreachable or refusing the credentials, the "
                                "topic missing, or Kafka disabled; `detail` says which."}})
    async def readyz() -> Response:
        ready, reason = publisher.readiness()
        if ready:
            return Response(Status(status="ready", detail=reason).model_dump_json(),
                            media_type=_JSON)
        return problem(503, reason, headers={"Retry-After": RETRY_AFTER_S})

    @app.get("/hello", summary="A static greeting.", response_model=Message,
             responses=BAD_REQUEST)
    async def hello() -> Response:
        return Response(b'{"message":"Hello, World!"}', media_type=_JSON)

    document: list[bytes] = []

    @app.get("/openapi.json", summary="This document (OpenAPI 3.1), generated from the code.",
             responses=BAD_REQUEST)
    async def openapi_doc() -> Response:
        if not document:
            import json

            document.append(json.dumps(openapi_document(app)).encode())
        return Response(document[0], media_type=_JSON)


def publisher_for(settings: Settings) -> Publisher:
    if settings.kafka_disabled:
        return DisabledPublisher()
    from event_api.kafka_publisher import KafkaPublisher

    return KafkaPublisher(settings)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Factory used by uvicorn in every worker process (settings come from the environment,
    already validated by the parent in __main__)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    return build_app(publisher_for(settings))
