"""One JSON log line per request: method, path, status, latency, and the event id if any.

The middleware logs what the application answered; the server protocol logs, through
`log_request`, what it answered itself (malformed requests, slow clients, refused connections).
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("event_api.access")

# The handler stores the event id here (the scope dict is shared down the ASGI stack), so
# failed writes are logged with their id too.
EVENT_ID_SCOPE_KEY = "event_api.event_id"


def log_request(method: str, path: str, status: int, started: float, **extra) -> None:
    """`started` is a time.perf_counter() reading taken when the request began."""
    if log.isEnabledFor(logging.INFO):
        fields = {"method": method, "path": path, "status": status,
                  "latency_ms": round((time.perf_counter() - started) * 1000, 2), **extra}
        log.info("request", extra={"fields": fields})


class AccessLogMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        seen = {"status": 500}

        async def capture(message):
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            extra = {}
            if scope.get(EVENT_ID_SCOPE_KEY):
                extra["event_id"] = scope[EVENT_ID_SCOPE_KEY]
            log_request(scope["method"], scope["path"], seen["status"], started, **extra)
