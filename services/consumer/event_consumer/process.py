"""The one replaceable business step: what to do with a valid event.

Swap it by passing another callable to `handler.build_handler(process_fn=...)`. Raise
`RetryableError` for transient failures (the record is retried: see handler.py for how); anything
that can never succeed should be caught upstream as a poison record instead.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from event_consumer.errors import RetryableError
from event_consumer.telemetry import logger

__all__ = ["RecordMeta", "RetryableError", "process", "lag_ms"]


class RecordMeta(NamedTuple):
    """Where the event came from, for logs, lag and idempotency keys.
    (A NamedTuple: built once per record, it costs a fifth of a frozen dataclass.)"""

    topic: str
    partition: int
    offset: int
    timestamp: Any  # Kafka record timestamp, epoch milliseconds, as delivered
    timestamp_type: Any
    key: str | None  # base64, as delivered
    headers: list[tuple[str, bytes]]


def lag_ms(event: dict[str, Any], now: float | None = None) -> int:
    """End-to-end lag: now minus the moment the API created the event (epoch seconds)."""
    now = time.time() if now is None else now
    return max(0, int(now * 1000) - int(event["timestamp"]) * 1000)


def process(event: dict[str, Any], meta: RecordMeta) -> None:
    """Default processing: nothing but a DEBUG line per event. The handler logs one INFO summary
    per batch; a line per event at INFO cost more than everything else together (bench/)."""
    if logger.log_level <= 10:  # DEBUG; checked first, building `extra` is the costly part
        logger.debug(
            "event processed",
            extra={
                "event_id": event["event_id"],
                "topic": meta.topic,
                "partition": meta.partition,
                "offset": meta.offset,
                "end_to_end_lag_ms": lag_ms(event),
            },
        )
