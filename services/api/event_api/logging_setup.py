"""JSON log lines on stdout (CloudWatch via awslogs parses one object per line)."""

from __future__ import annotations

import json
import logging
import sys
import time

import log_redaction

_configured = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Route every logger (ours, uvicorn's, kafka-python's) through one JSON handler."""
    global _configured
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
