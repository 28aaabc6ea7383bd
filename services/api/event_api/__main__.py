"""`python -m event_api`: validate the environment, then run the production server.

Process model: uvicorn's own multi-process supervisor (WEB_CONCURRENCY workers, default 2)
rather than gunicorn + UvicornWorker: uvicorn deprecated its gunicorn worker class, gunicorn's
native ASGI worker is new, and one server package keeps the image small. The supervisor
restarts a crashed worker, and on SIGTERM it forwards SIGTERM to every worker, which stops
accepting, finishes in-flight requests (up to GRACEFUL_SHUTDOWN_S), runs the lifespan shutdown
(flushes the Kafka producer, up to 5 s) and exits; the parent then exits 0 — within ECS's
default 30 s stopTimeout.
"""

from __future__ import annotations

import logging
import sys

import uvicorn

from event_api.http_protocol import NoDelayH11Protocol
from event_api.logging_setup import configure_logging
from event_api.settings import SettingsError, load_settings

GRACEFUL_SHUTDOWN_S = 10


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        for message in exc.messages:
            print(f"event_api: configuration error: {message}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    logging.getLogger(__name__).info(
        "starting",
        extra={"fields": {"host": settings.bind_host, "port": settings.port,
                          "workers": settings.web_concurrency,
                          "kafka_disabled": settings.kafka_disabled}},
    )
    uvicorn.run(
        "event_api.app:create_app",
        factory=True,
        host=settings.bind_host,
        port=settings.port,
        workers=settings.web_concurrency,
        log_config=None,  # our JSON logging, configured in each worker by create_app
        access_log=False,  # AccessLogMiddleware writes the one line per request
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        timeout_keep_alive=settings.keepalive_timeout_s,
        lifespan="on",
        http=NoDelayH11Protocol,  # see event_api/tcp.py: avoids +40 ms per kept-alive request
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
