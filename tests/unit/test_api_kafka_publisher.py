"""KafkaPublisher lifecycle without a broker: start-up never blocks on Kafka, retries in the
background, readiness follows outcomes, shutdown flushes. Client factories are stand-ins."""

import asyncio
import time

import pytest
from event_api.events import OutgoingRecord
from event_api.kafka_publisher import KafkaPublisher
from event_api.publisher_protocol import UNAVAILABLE, PublishError
from event_api.settings import load_settings
from kafka import errors as kafka_errors
from kafka.future import Future

ENV = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
       "KAFKA_TOPIC": "t"}
SETTINGS = load_settings(ENV)
# The give-up case waits out the whole send budget: a short one (the default is 5 s).
SHORT_BUDGET = load_settings({**ENV, "KAFKA_SEND_TIMEOUT_MS": "500"})
RECORD = OutgoingRecord(b"k", b"v", [])


class AdminStandIn:
    """describe_topics answers like kafka-python's: the topic exists with a led partition unless
    `exists` is False (UNKNOWN_TOPIC_OR_PARTITION, code 3) or `describe_fails`."""

    def __init__(self, exists=True, describe_fails=False):
        self.exists = exists
        self.describe_fails = describe_fails
        self.described = 0
        self.closed = False

    def create_topics(self, topics, timeout_ms):
        raise AssertionError("the API must never create a topic")

    def describe_topics(self, names):
        self.described += 1
        if self.describe_fails:
            raise kafka_errors.KafkaConnectionError("down")
        if not self.exists:
            return [{"name": names[0], "error_code": 3, "partitions": []}]
        return [{"name": names[0], "error_code": 0,
                 "partitions": [{"partition_index": 0, "error_code": 0, "leader_id": 1}]}]

    def close(self):
        self.closed = True


class ProducerStandIn:
    def __init__(self, **config):
        self.config = config
        self.closed_with = None
        self.sent = []

    def send(self, topic, value=None, key=None, headers=None):
        self.sent.append((topic, key, value))
        acked = Future()
        acked.success({"topic": topic})  # acknowledged at once
        return acked

    def partitions_for(self, topic):
        return {0}

    def close(self, timeout=None):
        self.closed_with = timeout


def _publisher(admin, producer_factory, settings=SETTINGS, **kwargs):
    return KafkaPublisher(settings, security_options=lambda s: {"security_protocol": "PLAINTEXT"},
                          producer_factory=producer_factory, admin_factory=lambda **c: admin,
                          retry_initial_s=0.01, retry_max_s=0.02, **kwargs)


async def _until(predicate, timeout_s=3.0):
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def test_start_returns_immediately_and_retries_until_kafka_is_reachable():
    attempts = []
    admin = AdminStandIn()

    producers = []

    def flaky_producer(**config):
        attempts.append(1)
        if len(attempts) < 3:
            raise kafka_errors.KafkaTimeoutError("Unable to bootstrap")
        producers.append(ProducerStandIn(**config))
        return producers[-1]

    async def go():
        publisher = _publisher(admin, flaky_producer)
        await publisher.start()
        ready, reason = publisher.readiness()
        assert not ready and reason
        # A request arriving while this worker still connects waits for the connection
        # (within its send budget) instead of failing at once.
        await publisher.publish(RECORD)
        await _until(lambda: publisher.readiness()[0])
        await publisher.close()

    asyncio.run(go())
    assert len(attempts) == 3
    assert producers[0].sent == [("t", b"k", b"v")]


def test_publish_gives_up_unavailable_within_its_budget_when_kafka_never_connects():
    def unreachable(**config):
        raise kafka_errors.KafkaTimeoutError("Unable to bootstrap")

    async def go():
        publisher = _publisher(AdminStandIn(), unreachable, settings=SHORT_BUDGET)
        await publisher.start()
        started = time.monotonic()
        with pytest.raises(PublishError) as caught:
            await publisher.publish(RECORD)
        waited = time.monotonic() - started
        await publisher.close()
        return caught.value, waited

    error, waited = asyncio.run(go())
    assert error.reason == UNAVAILABLE
    budget = SHORT_BUDGET.send_timeout_ms / 1000
    assert budget == 0.5
    assert budget * 0.9 <= waited < budget + 1.0


def test_existing_topic_makes_it_ready_and_close_flushes():
    admin = AdminStandIn(exists=True)
    made = []

    async def go():
        publisher = _publisher(admin, lambda **c: made.append(ProducerStandIn(**c)) or made[-1])
        await publisher.start()
        await _until(lambda: publisher.readiness()[0])
        await publisher.close()

    asyncio.run(go())
    [producer] = made
    assert producer.closed_with is not None and producer.closed_with > 0  # bounded flush
    assert producer.config["acks"] == "all"
    assert admin.closed


def test_failed_probe_makes_readyz_fail_and_a_good_probe_restores_it():
    admin = AdminStandIn()

    async def go():
        publisher = _publisher(admin, ProducerStandIn, probe_interval_s=0.02)
        await publisher.start()
        await _until(lambda: publisher.readiness()[0])
        admin.describe_fails = True
        await _until(lambda: not publisher.readiness()[0])
        assert "probe failed" in publisher.readiness()[1]
        admin.describe_fails = False
        await _until(lambda: publisher.readiness()[0])
        await publisher.close()

    asyncio.run(go())


def test_a_missing_topic_is_waited_for_never_created_and_readyz_says_so():
    admin = AdminStandIn(exists=False)
    made = []

    async def go():
        publisher = _publisher(admin, lambda **c: made.append(ProducerStandIn(**c)) or made[-1])
        await publisher.start()
        await _until(lambda: admin.described >= 2)
        ready, reason = publisher.readiness()
        assert not ready
        assert "'t' does not exist yet" in reason and "never creates" in reason
        assert made == []  # no producer until the topic is there
        admin.exists = True
        await _until(lambda: publisher.readiness()[0])
        await publisher.close()

    asyncio.run(go())
    assert len(made) == 1


def test_connect_failure_names_an_authentication_failure_seen_in_kafka_pythons_logs():
    """kafka-python raises a bare KafkaTimeoutError; the SASL failure is only a log argument."""
    import logging

    def rejected(**config):
        logging.getLogger("kafka.net.manager").warning(
            "Bootstrap connection to %s failed: %s (backoff %.2f secs)", "bootstrap-0",
            kafka_errors.SaslAuthenticationFailedError('{"status":"invalid_token"}'), 0.1)
        raise kafka_errors.KafkaTimeoutError("Unable to bootstrap from ['127.0.0.1:1']")

    async def go():
        publisher = KafkaPublisher(SETTINGS, security_options=lambda s: {},
                                   producer_factory=ProducerStandIn, admin_factory=rejected,
                                   retry_initial_s=0.01, retry_max_s=0.02)
        await publisher.start()
        await _until(lambda: "authentication" in publisher.readiness()[1])
        reason = publisher.readiness()[1]
        await publisher.close()
        return reason

    reason = asyncio.run(go())
    assert "SaslAuthenticationFailedError" in reason and "invalid_token" in reason
    assert "KafkaTimeoutError" not in reason


def test_close_while_an_attempt_fails_leaves_no_unretrieved_future(caplog):
    """Shutdown with the broker down: the connect attempt still running on the I/O thread fails
    after the task awaiting it was cancelled; its exception must not surface as an ERROR."""
    import gc
    import logging
    import threading

    release = threading.Event()

    def slow_failure(**config):
        release.wait(2)
        raise kafka_errors.KafkaTimeoutError("Unable to bootstrap")

    async def go():
        publisher = _publisher(AdminStandIn(), ProducerStandIn)
        publisher._admin_factory = slow_failure
        await publisher.start()
        await asyncio.sleep(0.05)  # the attempt is running on the I/O thread
        closing = asyncio.create_task(publisher.close())
        await asyncio.sleep(0.05)
        release.set()
        await closing
        await asyncio.sleep(0.05)

    caplog.set_level(logging.ERROR)
    asyncio.run(go())
    gc.collect()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
