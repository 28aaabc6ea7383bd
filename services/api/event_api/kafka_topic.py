"""Is the topic there and writable? The API never creates topics: they are provisioned at deploy
time, and the API only waits for its topic to exist (/readyz says so while it waits)."""

from __future__ import annotations

from kafka import errors as kafka_errors

DEPLOY_TIME_NOTE = "topics are created at deploy time; the API never creates one"


def topic_problem(admin, topic: str) -> str | None:
    """None if `topic` exists and every partition has a leader, else why not (one line)."""
    [info] = [t for t in admin.describe_topics([topic]) if t.get("name") == topic] or [None]
    if info is None:
        return f"topic {topic!r} is missing from the broker's metadata"
    error = kafka_errors.for_code(info.get("error_code", 0))
    if error is kafka_errors.UnknownTopicOrPartitionError:
        return f"topic {topic!r} does not exist yet ({DEPLOY_TIME_NOTE}); waiting for it"
    if issubclass(error, kafka_errors.AuthorizationError):
        return (f"not authorized to describe topic {topic!r} ({error.__name__}): check the "
                "task role's kafka-cluster:DescribeTopic grant")
    if error is not kafka_errors.NoError:
        return f"topic {topic!r} is not usable ({error.__name__})"
    partitions = info.get("partitions") or []
    leaderless = sorted(p.get("partition_index") for p in partitions
                        if p.get("error_code", 0) or p.get("leader_id", -1) < 0)
    if not partitions or leaderless:
        return f"topic {topic!r} has partitions without a leader: {leaderless or 'all'}"
    return None
