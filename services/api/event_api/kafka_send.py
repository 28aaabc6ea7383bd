"""Send one record with kafka-python and wait for its acknowledgement on the asyncio loop."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor

from kafka import errors as kafka_errors

from event_api.events import OutgoingRecord
from event_api.publisher_protocol import REJECTED, TIMEOUT, UNAVAILABLE, PublishError


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
    producer, topic: str, record: OutgoingRecord, timeout_s: float, executor: Executor
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
