"""The Starlette application: routes, error mapping and the publisher's lifespan."""

from __future__ import annotations

import contextlib
import logging
from importlib import resources

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from event_api.access_log import EVENT_ID_SCOPE_KEY, AccessLogMiddleware
from event_api.events import build_event, to_record
from event_api.logging_setup import configure_logging
from event_api.problems import problem
from event_api.publisher_protocol import DisabledPublisher, Publisher, PublishError
from event_api.settings import Settings, load_settings
from event_api.validation import InvalidQuery, parse_name, reject_unknown

log = logging.getLogger(__name__)

RETRY_AFTER_S = "2"
_NO_PARAMS: frozenset[str] = frozenset()


def _openapi_bytes() -> bytes:
    return resources.files("event_api").joinpath("openapi.json").read_bytes()


def build_app(publisher: Publisher) -> Starlette:
    """The app around any Publisher (unit tests pass a test double)."""
    openapi = _openapi_bytes()

    async def healthcheck(request: Request) -> Response:
        reject_unknown(request.query_params.multi_items(), _NO_PARAMS)
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        reject_unknown(request.query_params.multi_items(), _NO_PARAMS)
        ready, reason = publisher.readiness()
        if ready:
            return JSONResponse({"status": "ready", "detail": reason})
        return problem(503, reason, headers={"Retry-After": RETRY_AFTER_S})

    async def hello(request: Request) -> Response:
        reject_unknown(request.query_params.multi_items(), _NO_PARAMS)
        return JSONResponse({"message": "Hello, World!"})

    async def current_time(request: Request) -> Response:
        name = parse_name(request.query_params.multi_items())
        event = build_event(name)
        request.scope[EVENT_ID_SCOPE_KEY] = event.event_id
        try:
            await publisher.publish(to_record(event))
        except PublishError as exc:
            log.warning(
                "event not acknowledged by Kafka; answering 503",
                extra={"fields": {"event_id": event.event_id, "reason": exc.reason,
                                  "error": exc.detail}},
            )
            return problem(
                503,
                f"The event was not written: {exc.detail}. Retry later.",
                headers={"Retry-After": RETRY_AFTER_S},
            )
        return JSONResponse(event.response_body(), headers={"X-Event-Id": event.event_id})

    async def openapi_doc(request: Request) -> Response:
        reject_unknown(request.query_params.multi_items(), _NO_PARAMS)
        return Response(openapi, media_type="application/json")

    async def on_invalid_query(request: Request, exc: InvalidQuery) -> Response:
        return problem(400, exc.detail, errors=exc.errors)

    async def on_http_exception(request: Request, exc: HTTPException) -> Response:
        return problem(exc.status_code, exc.detail, headers=exc.headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", exc_info=exc)
        return problem(500, "Internal error")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await publisher.start()
        try:
            yield
        finally:
            await publisher.close()

    routes = [
        Route("/healthcheck", healthcheck, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/hello", hello, methods=["GET"]),
        Route("/current_time", current_time, methods=["GET"]),
        Route("/openapi.json", openapi_doc, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            InvalidQuery: on_invalid_query,
            HTTPException: on_http_exception,
            Exception: on_unexpected,
        },
    )
    app.add_middleware(AccessLogMiddleware)
    return app


def publisher_for(settings: Settings) -> Publisher:
    if settings.kafka_disabled:
        return DisabledPublisher()
    from event_api.kafka_publisher import KafkaPublisher

    return KafkaPublisher(settings)


def create_app(settings: Settings | None = None) -> Starlette:
    """Factory used by uvicorn in every worker process (settings come from the environment,
    already validated by the parent in __main__)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    return build_app(publisher_for(settings))
