"""`python -m event_api`: validate the environment, then run the production server
(event_api/server.py). Bad configuration exits 2 with one line per bad value, no traceback."""

from __future__ import annotations

import logging
import sys

from event_api.logging_setup import configure_logging
from event_api.settings import SettingsError, load_settings


def _refuse(exc: SettingsError) -> int:
    for message in exc.messages:
        print(f"event_api: configuration error: {message}", file=sys.stderr)
    return 2


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _refuse(exc)
    # The server (uvicorn, the protocol, the app: ~0.1 s of imports) once the values passed.
    from event_api.server import ensure_descriptor_budget, serve

    try:
        ensure_descriptor_budget(settings.max_connections)
    except SettingsError as exc:
        return _refuse(exc)
    configure_logging(settings.log_level)
    logging.getLogger(__name__).info(
        "starting",
        extra={"fields": {"host": settings.bind_host, "port": settings.port,
                          "workers": settings.web_concurrency,
                          "kafka_disabled": settings.kafka_disabled}},
    )
    serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
