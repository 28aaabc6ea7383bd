"""kafka-python producer settings and the bridge from its futures to asyncio.

Importing this module has no side effects (the Pulumi policy test imports the constant below).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor

from kafka import errors as kafka_errors

from event_api.events import KafkaRecord
from event_api.publisher import REJECTED, TIMEOUT, UNAVAILABLE, PublishError

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


def classify(exc: BaseException) -> PublishError:
    """Map a kafka-python failure to the coarse reason the HTTP layer reports."""
    if isinstance(exc, PublishError):
        return exc
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError, kafka_errors.KafkaTimeoutError)):
        return PublishError(TIMEOUT, "Kafka did not acknowledge the event in time")
    if isinstance(
        exc,
        (
            kafka_errors.KafkaConnectionError,
            kafka_errors.NodeNotReadyError,
            kafka_errors.IllegalStateError,
            ConnectionError,
        ),
    ):
        return PublishError(UNAVAILABLE, "Kafka is not reachable")
    if isinstance(exc, kafka_errors.RequestTimedOutError):
        return PublishError(TIMEOUT, "Kafka did not acknowledge the event in time")
    return PublishError(REJECTED, f"Kafka refused the event ({type(exc).__name__})")


async def send_and_wait(
    producer, topic: str, record: KafkaRecord, timeout_s: float, executor: Executor
) -> None:
    """Send one record and wait for its own acknowledgement without blocking the event loop.

    send() runs on `executor` because it may block while metadata is refreshed; the ack arrives
    on kafka-python's sender thread and is handed to the loop with call_soon_threadsafe.
    """
    loop = asyncio.get_running_loop()
    acked: asyncio.Future = loop.create_future()

    def resolve(result=None, exc=None):
        if acked.done():
            return  # already timed out on our side
        if exc is None:
            acked.set_result(result)
        else:
            acked.set_exception(exc)

    def send():
        future = producer.send(topic, value=record.value, key=record.key, headers=record.headers)
        future.add_callback(lambda metadata: loop.call_soon_threadsafe(resolve, metadata))
        future.add_errback(lambda err: loop.call_soon_threadsafe(resolve, None, err))

    async def send_then_ack():
        await loop.run_in_executor(executor, send)
        await acked

    try:
        await asyncio.wait_for(send_then_ack(), timeout_s)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a PublishError (503)
        raise classify(exc) from exc
