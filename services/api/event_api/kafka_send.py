"""Send one record with kafka-python and wait for its acknowledgement on the asyncio loop.

send() runs on the event loop itself: kafka-python's send() only appends to the accumulator; it
blocks only to wait for topic metadata, and the producer is built with max_block_ms=0
(event_api/kafka_producer_config.py) so even that returns at once. The acknowledgement completes
the request's future directly when the producer's network work runs on this loop
(event_api/kafka_loop_sender.py, the default), or through one call_soon_threadsafe from
kafka-python's own sender thread (KAFKA_IO_ON_EVENT_LOOP=false). No executor hop per request
(the profiles in bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio

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


def _settle(acked: asyncio.Future, error: BaseException | None) -> None:
    if not acked.done():  # the first outcome wins: ack, failure or our own timeout
        if error is None:
            acked.set_result(None)
        else:
            acked.set_exception(error)


async def send_and_wait(producer, topic: str, record: OutgoingRecord, timeout_s: float) -> None:
    """Return once this record is acknowledged; otherwise raise PublishError within timeout_s."""
    loop = asyncio.get_running_loop()
    acked = loop.create_future()
    # The acknowledgement arrives on this loop's thread when the producer runs on it.
    same_thread = getattr(producer, "runs_on_loop", None) is loop

    def on_outcome(error: BaseException | None) -> None:
        if same_thread:
            _settle(acked, error)
            return
        try:
            loop.call_soon_threadsafe(_settle, acked, error)
        except RuntimeError:
            pass  # the loop is closed (shutdown): nobody waits for this answer any more

    try:
        sent = producer.send(topic, value=record.value, key=record.key, headers=record.headers)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a PublishError (503)
        raise classify(exc) from exc
    sent.add_callback(lambda _metadata: on_outcome(None))
    sent.add_errback(on_outcome)
    timer = loop.call_later(timeout_s, _settle, acked, TimeoutError())
    try:
        await acked
    except Exception as exc:  # noqa: BLE001 - (cancellation is not an Exception: it propagates)
        raise classify(exc) from exc
    finally:
        timer.cancel()
