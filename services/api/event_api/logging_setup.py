"""JSON log lines on stdout (CloudWatch via awslogs parses one object per line)."""

from __future__ import annotations

import logging
import sys
import time

import log_redaction
import orjson

_configured = False


class JsonFormatter(logging.Formatter):
    _second = -1
    _second_text = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:  # one strftime per second, not per line
            self._second, self._second_text = second, time.strftime(
                "%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        entry = {
            "time": f"{self._second_text}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode("utf-8")


def configure_logging(level: str = "INFO") -> None:
    """Route every logger (ours, uvicorn's, kafka-python's) through one JSON handler."""
    global _configured
    # Fields no line of ours uses; skipping them is logging's documented optimisation
    # (https://docs.python.org/3/howto/logging.html#optimization): one access line per request.
    logging._srcfile = None  # no caller frame lookup per record
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.setLevel(level)
    if not _configured:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        root.handlers = [handler]
        _configured = True
    # kafka-python logs every reconnect attempt at INFO; keep that out unless debugging.
    numeric = logging.getLevelName(level)
    logging.getLogger("kafka").setLevel(numeric if numeric <= logging.DEBUG
                                        else max(numeric, logging.WARNING))
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # No level may write credentials, signatures or tokens (botocore and kafka-python do at
    # DEBUG): every handler's output is redacted.
    log_redaction.install()
