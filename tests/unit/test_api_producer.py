"""Producer settings and the kafka-python future -> asyncio bridge (with a stand-in producer
whose futures are real kafka.future.Future objects, resolved from another thread)."""

import asyncio
import threading
import time

import pytest
from event_api.events import OutgoingRecord
from event_api.kafka_producer_config import producer_config
from event_api.kafka_send import classify, send_and_wait
from event_api.publisher_protocol import REJECTED, TIMEOUT, UNAVAILABLE, PublishError
from event_api.settings import load_settings
from kafka import KafkaProducer
from kafka import errors as kafka_errors
from kafka.future import Future

RECORD = OutgoingRecord(key=b"Ada", value=b"{}", headers=[("event_id", b"x")])


class ThreadedProducer:
    """Resolves each send's future from a separate thread, like kafka-python's sender."""

    def __init__(self, outcome, delay_s=0.01):
        self.outcome = outcome
        self.delay_s = delay_s
        self.sent = []
        self.resolvers: list[threading.Thread] = []

    def send(self, topic, value, key, headers):
        self.sent.append((topic, value, key, headers))
        future = Future()
        if self.outcome == "hang":
            return future

        def resolve():
            time.sleep(self.delay_s)
            if isinstance(self.outcome, BaseException):
                future.failure(self.outcome)
            else:
                future.success(self.outcome)

        self.resolvers.append(threading.Thread(target=resolve, daemon=True))
        self.resolvers[-1].start()
        return future

    def wait_resolved(self):
        """Until every send's future has been resolved (its callbacks have run)."""
        for thread in self.resolvers:
            thread.join(timeout=5)


def _run(producer, timeout_s=2.0):
    asyncio.run(send_and_wait(producer, "events", RECORD, timeout_s))


def test_acknowledged_send_returns_and_passes_key_value_headers():
    producer = ThreadedProducer(outcome="metadata")
    _run(producer)
    assert producer.sent == [("events", b"{}", b"Ada", [("event_id", b"x")])]


@pytest.mark.parametrize(
    "error, reason",
    [
        (kafka_errors.KafkaTimeoutError("expired"), TIMEOUT),
        (kafka_errors.RequestTimedOutError(), TIMEOUT),
        (kafka_errors.KafkaConnectionError("refused"), UNAVAILABLE),
        (kafka_errors.NodeNotReadyError(), UNAVAILABLE),
        (ConnectionRefusedError(), UNAVAILABLE),
        (kafka_errors.TopicAuthorizationFailedError(), REJECTED),
        (kafka_errors.NotEnoughReplicasError(), REJECTED),
    ],
)
def test_failed_ack_raises_publish_error_with_reason(error, reason):
    with pytest.raises(PublishError) as caught:
        _run(ThreadedProducer(outcome=error))
    assert caught.value.reason == reason


def test_missing_ack_is_a_timeout_within_the_bound():
    started = time.monotonic()
    with pytest.raises(PublishError) as caught:
        _run(ThreadedProducer(outcome="hang"), timeout_s=0.3)
    assert caught.value.reason == TIMEOUT
    assert time.monotonic() - started < 1.5


def test_send_raising_synchronously_is_mapped_too():
    class Closed:
        def send(self, *args, **kwargs):
            raise kafka_errors.IllegalStateError("KafkaProducer already closed!")

    with pytest.raises(PublishError) as caught:
        _run(Closed())
    assert caught.value.reason == UNAVAILABLE


def test_event_loop_keeps_running_while_acks_are_pending():
    async def go():
        producer = ThreadedProducer(outcome="ok", delay_s=0.3)
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        tick_task = asyncio.create_task(ticker())
        await asyncio.gather(*(send_and_wait(producer, "t", RECORD, 2) for _ in range(20)))
        tick_task.cancel()
        return ticks

    assert asyncio.run(go()) >= 10


def test_late_ack_after_timeout_is_ignored_quietly():
    async def go():
        producer = ThreadedProducer(outcome="ok", delay_s=0.3)
        with pytest.raises(PublishError):
            await send_and_wait(producer, "t", RECORD, 0.05)
        # The late callback must not raise InvalidStateError: let it arrive, and the loop run it.
        await asyncio.to_thread(producer.wait_resolved)
        await asyncio.sleep(0.01)

    asyncio.run(go())


def test_classify_keeps_publish_errors():
    original = PublishError(REJECTED, "x")
    assert classify(original) is original


SETTINGS = load_settings({"KAFKA_BOOTSTRAP_SERVERS": "h:1", "AWS_REGION": "eu-west-1"})


def test_producer_config_is_durable_and_batches():
    config = producer_config(SETTINGS, {"security_protocol": "PLAINTEXT"})
    assert config["acks"] == "all"
    assert config["enable_idempotence"] is False
    # Without idempotence only one in-flight request keeps a retried batch in order.
    assert config["max_in_flight_requests_per_connection"] == 1
    assert config["batch_size"] >= 16384
    assert config["delivery_timeout_ms"] >= config["linger_ms"] + config["request_timeout_ms"]
    assert config["max_block_ms"] == 0  # send() runs on the event loop: it must never block
    assert config["allow_auto_create_topics"] is False  # the API never creates topics
    assert set(config) <= set(KafkaProducer.DEFAULT_CONFIG)  # no unknown kwargs


def test_idempotence_follows_the_setting_and_is_off_by_default():
    # The library defaults to on; the API's default is off (kafka-python 3.0.12's idempotent
    # producer does not recover after a broker outage under load, see the fault test), and the
    # Pulumi program passes KAFKA_ENABLE_IDEMPOTENCE so the IAM policy follows it.
    assert KafkaProducer.DEFAULT_CONFIG["enable_idempotence"] is True
    assert producer_config(SETTINGS, {})["enable_idempotence"] is False
    on = load_settings({"KAFKA_BOOTSTRAP_SERVERS": "h:1", "AWS_REGION": "eu-west-1",
                        "KAFKA_ENABLE_IDEMPOTENCE": "true"})
    assert producer_config(on, {})["enable_idempotence"] is True
    assert producer_config(on, {})["max_in_flight_requests_per_connection"] <= 5


def test_producer_module_imports_without_side_effects():
    import subprocess
    import sys

    code = (
        "import threading; import event_api.kafka_producer_config;"
        "assert threading.active_count() == 1, threading.enumerate()"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_send_runs_on_the_event_loop_thread_without_a_thread_hop():
    """The profile showed the per-request hop through a thread pool as the largest single cost;
    send() is thread-safe and non-blocking (max_block_ms=0), so it is called right here."""
    callers = []

    class Recording(ThreadedProducer):
        def send(self, *args, **kwargs):
            callers.append(threading.get_ident())
            return super().send(*args, **kwargs)

    async def go():
        await send_and_wait(Recording(outcome="ok"), "t", RECORD, 2)
        return threading.get_ident()

    loop_thread = asyncio.run(go())
    assert callers == [loop_thread]


def test_an_ack_after_the_loop_closed_is_dropped_quietly(caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    producer = ThreadedProducer(outcome="ok", delay_s=0.3)

    async def go():
        with pytest.raises(PublishError):
            await send_and_wait(producer, "t", RECORD, 0.01)

    asyncio.run(go())  # the loop is closed when the sender thread resolves the future
    producer.wait_resolved()
    # kafka-python logs an exception raised by a callback ("Error processing callback").
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_kafka_python_checksums_batches_in_c():
    """services/api/requirements.txt pins crc32c so kafka-python does not checksum every
    record batch in pure Python (bench/RESULTS.md, profile)."""
    from kafka.record import util
    from kafka.record._crc32c import crc as pure_python_crc

    assert util.calc_crc32c.__defaults__[0] is not pure_python_crc
    assert util.calc_crc32c(b"123456789") == 0xE3069283  # RFC 3720's check value
