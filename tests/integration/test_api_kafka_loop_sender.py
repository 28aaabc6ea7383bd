"""The API's producer with kafka-python's network work on the event loop
(event_api/kafka_loop_sender.py), against the real broker over SASL_SSL + MSK IAM: it sends,
keeps up with many requests in flight, flushes on close, rests when idle, and can be turned off."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import uvloop
from event_api.events import build_event, to_record
from event_api.kafka_publisher import KafkaPublisher
from event_api.settings import load_settings

from tests.fixtures.kafka import read_events

pytestmark = pytest.mark.integration

READY_TIMEOUT_S = 60.0


@pytest.fixture
def api_settings(kafka_broker, kafka_topic, monkeypatch):
    def settings(**extra: str):
        env = {**kafka_broker.client_env("api"), "KAFKA_TOPIC": kafka_topic,
               "KAFKA_SEND_TIMEOUT_MS": "5000", **extra}
        for name, value in env.items():  # the MSK IAM signer reads its credentials from here
            monkeypatch.setenv(name, value)
        return load_settings(env)

    return settings


def run_on_uvloop(coroutine):
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # the server's loop
        return runner.run(coroutine)


async def connected(publisher: KafkaPublisher) -> KafkaPublisher:
    await publisher.start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not publisher.readiness()[0]:
        assert time.monotonic() < deadline, f"never ready: {publisher.readiness()[1]}"
        await asyncio.sleep(0.05)
    return publisher


def kafka_sender_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.endswith("-network-thread")]


async def publish(publisher: KafkaPublisher, name: str) -> str:
    event = build_event(name)
    await publisher.publish(to_record(event))
    return event.event_id


def test_the_producer_runs_on_the_event_loop_and_no_sender_thread_exists(api_settings,
                                                                         kafka_broker,
                                                                         kafka_topic):
    async def scenario():
        publisher = await connected(KafkaPublisher(api_settings()))
        try:
            assert publisher._producer.runs_on_loop is asyncio.get_running_loop()
            threads = kafka_sender_threads()
            return await publish(publisher, "on-the-loop"), threads
        finally:
            await publisher.close()

    event_id, threads = run_on_uvloop(scenario())
    assert threads == []
    assert event_id in read_events(kafka_broker.plaintext_bootstrap, kafka_topic, {event_id})


def test_records_sent_while_a_request_is_in_flight_follow_its_acknowledgement(
        api_settings, kafka_broker, kafka_topic):
    # One produce request in flight per connection (no idempotence): records sent meanwhile
    # wait, muted, in the partition's next batch. When the acknowledgement comes back nothing
    # else may happen (every client waits for its answer), so the loop itself must send that
    # batch at once, as kafka-python's thread would, not when some timer fires.
    rounds = 20

    async def scenario():
        publisher = await connected(KafkaPublisher(api_settings()))
        event_ids, slowest_s = [], 0.0
        try:
            for _ in range(rounds):
                first = asyncio.create_task(publish(publisher, "one-key"))
                await asyncio.sleep(0)  # the first record is sent by the step its send() asked
                assert not first.done()
                started = time.monotonic()
                following = [asyncio.create_task(publish(publisher, "one-key")) for _ in range(2)]
                event_ids += await asyncio.wait_for(asyncio.gather(first, *following), 2.0)
                slowest_s = max(slowest_s, time.monotonic() - started)
            return event_ids, slowest_s
        finally:
            await publisher.close()

    event_ids, slowest_s = run_on_uvloop(scenario())
    assert slowest_s < 0.5, f"records sent during a request waited {slowest_s:.2f} s"
    found = read_events(kafka_broker.plaintext_bootstrap, kafka_topic, set(event_ids))
    assert len(event_ids) == 3 * rounds == len(set(event_ids)) == len(found)


def test_many_closed_loop_clients_are_all_acknowledged_once_without_busy_stepping(
        api_settings, kafka_broker, kafka_topic):
    # While a request is in flight, batches of other partitions wait; kafka-python then asks to
    # poll again at once, and its own thread spins. The loop must wait for the response instead.
    clients, each = 16, 30

    async def scenario():
        publisher = await connected(KafkaPublisher(api_settings()))
        sender = publisher._producer._sender

        async def client(number: int) -> list[str]:
            event_ids = []
            for _ in range(each):
                event_ids.append(await publish(publisher, f"client-{number}"))
                # Staggered, as requests reach a server: some arrive while a request is in flight.
                await asyncio.sleep(number * 0.0001)
            return event_ids

        try:
            started, steps_before = time.monotonic(), sender.steps
            outcomes = await asyncio.gather(*(client(n) for n in range(clients)))
            elapsed_s, steps = time.monotonic() - started, sender.steps - steps_before
            return [i for ids in outcomes for i in ids], elapsed_s, steps
        finally:
            await publisher.close()

    event_ids, elapsed_s, steps = run_on_uvloop(scenario())
    assert elapsed_s < 4.0, f"{len(event_ids)} sends took {elapsed_s:.1f} s"
    assert steps < 2 * len(event_ids), f"{steps} steps for {len(event_ids)} records"
    found = read_events(kafka_broker.plaintext_bootstrap, kafka_topic, set(event_ids))
    assert len(event_ids) == clients * each == len(set(event_ids)) == len(found)


def test_close_gives_every_accepted_record_its_acknowledgement(api_settings, kafka_broker,
                                                               kafka_topic):
    async def scenario():
        publisher = await connected(KafkaPublisher(api_settings()))
        sends = [asyncio.create_task(publish(publisher, f"closing-{n}")) for n in range(100)]
        await asyncio.sleep(0)  # each has called send(); none can have its answer yet
        assert not any(task.done() for task in sends)
        await publisher.close()
        return await asyncio.gather(*sends, return_exceptions=True)

    outcomes = run_on_uvloop(scenario())
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert failures == [], failures[:3]
    found = read_events(kafka_broker.plaintext_bootstrap, kafka_topic, set(outcomes))
    assert set(found) == set(outcomes)


def test_an_idle_producer_on_the_loop_does_not_spin(api_settings):
    async def scenario():
        publisher = await connected(KafkaPublisher(api_settings()))
        try:
            await publish(publisher, "before-idle")
            cpu_before, wall_before = time.process_time(), time.monotonic()
            await asyncio.sleep(2.0)
            return time.process_time() - cpu_before, time.monotonic() - wall_before
        finally:
            await publisher.close()

    cpu_s, wall_s = run_on_uvloop(scenario())
    assert cpu_s < 0.2 * wall_s, f"{cpu_s:.2f} s of CPU in {wall_s:.1f} s idle"


def test_kafka_io_on_event_loop_false_uses_kafka_pythons_own_thread(api_settings, kafka_broker,
                                                                    kafka_topic):
    async def scenario():
        publisher = await connected(KafkaPublisher(api_settings(KAFKA_IO_ON_EVENT_LOOP="false")))
        try:
            assert getattr(publisher._producer, "runs_on_loop", None) is None
            threads = kafka_sender_threads()
            return await publish(publisher, "on-its-thread"), threads
        finally:
            await publisher.close()

    event_id, threads = run_on_uvloop(scenario())
    assert threads == ["event-api-network-thread"]
    assert event_id in read_events(kafka_broker.plaintext_bootstrap, kafka_topic, {event_id})
