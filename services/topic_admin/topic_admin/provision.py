"""Make a topic exist with at least the requested partitions, without ever losing data.

Kafka can add partitions to a topic but never remove them (removing would drop their records),
and this code never deletes a topic: a smaller request is refused with the reason, so the
deploy fails loudly instead of silently doing nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kafka import errors as kafka_errors

log = logging.getLogger(__name__)

CREATED, GROWN, UNCHANGED = "created", "grown", "unchanged"


class ShrinkRefused(RuntimeError):
    """The topic has more partitions than requested; Kafka cannot remove partitions."""


class TopicUnavailable(RuntimeError):
    """The topic's metadata could not be read (e.g. authorization failed)."""


@dataclass(frozen=True)
class Outcome:
    topic: str
    partitions: int
    action: str  # CREATED, GROWN or UNCHANGED

    def as_dict(self) -> dict[str, object]:
        return {"topic": self.topic, "partitions": self.partitions, "action": self.action}


def current_partitions(admin, topic: str) -> int | None:
    """The topic's partition count, or None if it does not exist."""
    (info,) = admin.describe_topics([topic])
    error = kafka_errors.for_code(info.get("error_code", 0))
    if error is kafka_errors.UnknownTopicOrPartitionError:
        return None
    if error is not kafka_errors.NoError:
        raise TopicUnavailable(f"cannot describe topic {topic!r}: {error.__name__} "
                               "(does the role hold kafka-cluster:DescribeTopic on it?)")
    return len(info.get("partitions") or [])


def ensure_topic(admin, topic: str, partitions: int, *, ready_timeout_ms: int) -> Outcome:
    """Create `topic` with `partitions`, or grow it to `partitions`; refuse to shrink it.

    Idempotent: a second run with the same request changes nothing. Returns once every
    partition has a leader, so the producers and the event source mapping find it usable.
    """
    action = _reconcile(admin, topic, partitions)
    admin.wait_for_topics([topic], timeout_ms=ready_timeout_ms)
    outcome = Outcome(topic, current_partitions(admin, topic) or 0, action)
    log.info("topic provisioned", extra=outcome.as_dict())
    return outcome


def _reconcile(admin, topic: str, partitions: int) -> str:
    existing = current_partitions(admin, topic)
    if existing is None:
        try:
            # Replication factor -1: the cluster's default (MSK Serverless fixes it at 3).
            admin.create_topics({topic: {"num_partitions": partitions}})
            return CREATED
        except kafka_errors.TopicAlreadyExistsError:
            # Created meanwhile by someone else: compare with what is there now.
            existing = current_partitions(admin, topic) or 0
    if existing < partitions:
        admin.create_partitions({topic: partitions})
        return GROWN
    if existing > partitions:
        raise ShrinkRefused(
            f"topic {topic!r} has {existing} partitions and the request asks for {partitions}: "
            f"Kafka cannot remove partitions without losing their records. Keep the setting at "
            f"{existing} or more (or move to a new topic); nothing was changed.")
    return UNCHANGED
