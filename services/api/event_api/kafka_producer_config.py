"""The kafka-python producer's settings, derived from the API's settings.

Importing this module has no side effects (the Pulumi policy test imports it).
"""

from __future__ import annotations

# kafka-python 3.x enables idempotence by default; we turn it OFF. With it, kafka-python 3.0.12
# never recovers from a broker outage under load: once in-flight batches expire, every later
# send for those partitions waits forever (tests/integration/test_fault_broker_restart.py shows
# 40 s of 503s after the broker is back; without idempotence the API recovers in about 1 s).
# Delivery stays at-least-once (acks=all, bounded retries); one in-flight request per connection
# keeps each name's events in order across retries, and consumers deduplicate by event id.
# An idempotent producer would also need kafka-cluster:WriteDataIdempotently in the task role:
# the Pulumi program reads this flag, so the policy always follows the setting.
PRODUCER_IS_IDEMPOTENT = False
PRODUCER_ACKS = "all"


def producer_config(
    bootstrap_servers: tuple[str, ...],
    send_timeout_ms: int,
    linger_ms: int,
    batch_size: int,
    security_options: dict,
) -> dict:
    """KafkaProducer kwargs. Timeouts derive from the send timeout so a record the API already
    answered 503 for is not retried for minutes behind the client's back."""
    return {
        "bootstrap_servers": list(bootstrap_servers),
        "acks": PRODUCER_ACKS,
        "enable_idempotence": PRODUCER_IS_IDEMPOTENT,
        # Without idempotence, more than one in-flight request could reorder a retried batch.
        "max_in_flight_requests_per_connection": 1,
        # linger + batch size let concurrent requests share one produce request.
        "linger_ms": linger_ms,
        "batch_size": batch_size,
        "request_timeout_ms": send_timeout_ms,
        # kafka-python requires delivery_timeout >= linger + request_timeout.
        "delivery_timeout_ms": send_timeout_ms + linger_ms,
        # send() blocks only while topic metadata is missing; never longer than a request may wait.
        "max_block_ms": send_timeout_ms,
        "bootstrap_timeout_ms": 5000,
        "reconnect_backoff_max_ms": 2000,
        "client_id": "event-api",
        **security_options,
    }
