"""The one replaceable business step: what to do with a valid event.

Swap it by passing another callable to `handler.build_handler(process_fn=...)`. Raise
`RetryableError` for transient failures (the batch is retried); anything that can never succeed
should be caught upstream as a poison record instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from event_consumer.errors import RetryableError
from event_consumer.telemetry import logger

__all__ = ["RecordMeta", "RetryableError", "process", "lag_ms"]


@dataclass(frozen=True)
class RecordMeta:
    """Where the event came from, for logs, lag and idempotency keys."""

    topic: str
    partition: int
    offset: int
    timestamp: int  # Kafka record timestamp, epoch milliseconds
    timestamp_type: str
    key: str | None  # base64, as delivered
    headers: list[tuple[str, bytes]]


def lag_ms(event: dict[str, Any], now: float | None = None) -> int:
    """End-to-end lag: now minus the moment the API created the event (epoch seconds)."""
    now = time.time() if now is None else now
    return max(0, int(now * 1000) - int(event["timestamp"]) * 1000)


def process(event: dict[str, Any], meta: RecordMeta) -> None:
    """Default processing: one structured log line per event."""
    logger.info(
        "event processed",
        extra={
            "event_id": event["event_id"],
            "topic": meta.topic,
            "partition": meta.partition,
            "offset": meta.offset,
            "end_to_end_lag_ms": lag_ms(event),
        },
    )
