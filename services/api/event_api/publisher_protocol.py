"""The seam between the HTTP layer and Kafka: what a publisher promises and how it fails.

Every failure is a PublishError with a coarse reason; the HTTP layer turns any of them into
503 + Retry-After, so a request is never answered 2xx unless the write was acknowledged.
"""

from __future__ import annotations

from typing import Protocol

from event_api.events import OutgoingRecord

TIMEOUT = "timeout"  # no acknowledgement within KAFKA_SEND_TIMEOUT_MS
UNAVAILABLE = "unavailable"  # not connected / broker unreachable / producer not started yet
REJECTED = "rejected"  # the broker answered with an error (authorization, size, ...)
DISABLED = "disabled"  # the deployment runs without Kafka (cost toggle)


class PublishError(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Publisher(Protocol):
    async def start(self) -> None: ...

    async def publish(self, record: OutgoingRecord) -> None:
        """Return only once the record is acknowledged; otherwise raise PublishError."""

    def readiness(self) -> tuple[bool, str]:
        """(ready, human-readable reason)."""

    async def close(self) -> None: ...


class DisabledPublisher:
    """Used when KAFKA_DISABLED=true: the API runs, but nothing claims an event was written."""

    async def start(self) -> None:
        return None

    async def publish(self, record: OutgoingRecord) -> None:
        raise PublishError(DISABLED, "Kafka is disabled in this deployment")

    def readiness(self) -> tuple[bool, str]:
        return False, "Kafka is disabled in this deployment (KAFKA_DISABLED=true)"

    async def close(self) -> None:
        return None
