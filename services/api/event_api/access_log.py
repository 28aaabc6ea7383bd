"""One JSON log line per request: method, path, status, latency, and the event id if any."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("event_api.access")

# The handler stores the event id here (the scope dict is shared down the ASGI stack), so
# failed writes are logged with their id too.
EVENT_ID_SCOPE_KEY = "event_api.event_id"


class AccessLogMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
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
            fields = {
                "method": scope["method"],
                "path": scope["path"],
                "status": seen["status"],
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            }
            if scope.get(EVENT_ID_SCOPE_KEY):
                fields["event_id"] = scope[EVENT_ID_SCOPE_KEY]
            log.info("request", extra={"fields": fields})
