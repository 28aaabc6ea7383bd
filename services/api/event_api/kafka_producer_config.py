"""The kafka-python producer's settings, derived from the API's settings.

Importing this module has no side effects.
"""

from __future__ import annotations

from event_api.settings import Settings

PRODUCER_ACKS = "all"


def producer_config(settings: Settings, security_options: dict) -> dict:
    """KafkaProducer kwargs. Timeouts derive from the send timeout so a record the API already
    answered 503 for is not retried for minutes behind the client's back."""
    idempotent = settings.enable_idempotence
    return {
        "bootstrap_servers": list(settings.bootstrap_servers),
        "acks": PRODUCER_ACKS,
        # The Pulumi program decides idempotence (KAFKA_ENABLE_IDEMPOTENCE) and grants
        # kafka-cluster:WriteDataIdempotently to match. It is off there: kafka-python 3.0.12's
        # idempotent producer never recovers from a broker outage under load
        # (tests/integration/test_fault_broker_restart.py). Delivery is then at-least-once
        # (acks=all, bounded retries) and consumers drop duplicates by event id.
        "enable_idempotence": idempotent,
        # Without idempotence, a second in-flight request could reorder a retried batch.
        "max_in_flight_requests_per_connection": 5 if idempotent else 1,
        # While a produce request is in flight, new records collect in the next batch, so
        # under load events share requests even with linger 0 (bench/RESULTS.md).
        "linger_ms": settings.linger_ms,
        "batch_size": settings.batch_size,
        "request_timeout_ms": settings.send_timeout_ms,
        # kafka-python requires delivery_timeout >= linger + request_timeout.
        "delivery_timeout_ms": settings.send_timeout_ms + settings.linger_ms,
        # send() runs on the event loop and must never block it: it would only block to wait for
        # topic metadata, which the publisher loads before the first request; with 0 a send that
        # finds none fails at once (503) while kafka-python fetches it in the background.
        "max_block_ms": 0,
        # Topics are provisioned at deploy time; a typo must not create a new one.
        "allow_auto_create_topics": False,
        "bootstrap_timeout_ms": 5000,
        "reconnect_backoff_max_ms": 2000,
        "client_id": "event-api",
        # kafka-python's client-side metrics are read by nothing here and cost CPU per record.
        "metrics_enabled": False,
        **security_options,
    }
