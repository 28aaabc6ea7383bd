"""What event_api/kafka_loop_sender.py relies on in kafka-python, checked so that an upgrade which
changes one of these internals fails here (and not as a producer that never sends); and the
non-blocking selector's contract. Its behaviour against a broker is in
tests/integration/test_api_kafka_loop_sender.py."""

from __future__ import annotations

import inspect
import selectors
import socket
import time

import kafka.producer.kafka as kafka_producer_module
import pytest
from event_api.kafka_loop_sender import LoopDrivenSender, LoopPolledSelector, LoopProducer
from kafka import KafkaProducer
from kafka.net.compat import KafkaNetClient
from kafka.net.selector import NetworkSelector
from kafka.producer.sender import Sender


def test_kafka_producer_builds_its_sender_from_the_module_name_and_takes_a_selector():
    assert kafka_producer_module.Sender is Sender
    assert "self._sender = Sender(" in inspect.getsource(KafkaProducer.__init__)
    assert "selector" in KafkaProducer.DEFAULT_CONFIG


def test_the_sender_internals_the_loop_drives_exist():
    body = inspect.getsource(Sender.__init__)
    for attribute in ("self._running", "self._force_close", "self._accumulator",
                      "self._client"):
        assert attribute in body
    run = inspect.getsource(Sender.run)
    assert "self.run_once()" in run and "has_undrained()" in run
    assert "in_flight_request_count()" in run and "abort_incomplete_batches()" in run
    for name in ("run_once", "wakeup", "initiate_close", "force_close"):
        assert callable(getattr(Sender, name))
    assert issubclass(LoopDrivenSender, Sender)


def test_the_network_selector_internals_the_loop_reads_exist():
    net = NetworkSelector(selector=LoopPolledSelector)
    try:
        assert isinstance(net._selector, LoopPolledSelector)
        assert len(net._ready) == 0
        assert net._next_scheduled_timeout(time.monotonic()) is None
    finally:
        net.close()
    assert "self._net" in inspect.getsource(KafkaNetClient.__init__)


def test_the_selector_blocks_until_attached_then_only_polls_and_keeps_the_timeout():
    selector = LoopPolledSelector()
    reader, writer = socket.socketpair()
    try:
        selector.register(reader, selectors.EVENT_READ)
        started = time.monotonic()
        assert selector.select(0.05) == []
        assert time.monotonic() - started >= 0.04  # blocking, as kafka-python's bootstrap needs

        selector.polled_by_loop = True
        started = time.monotonic()
        assert selector.select(30) == []
        assert time.monotonic() - started < 1
        assert selector.requested_timeout == 30 and selector.found_events is False

        writer.send(b"x")
        assert len(selector.select(None)) == 1
        assert selector.requested_timeout is None and selector.found_events is True
    finally:
        selector.close()
        reader.close()
        writer.close()


def test_a_failed_construction_leaves_kafka_pythons_sender_name_alone():
    with pytest.raises(Exception):  # noqa: B017,PT011 - whichever error kafka-python raises
        LoopProducer(bootstrap_servers=["127.0.0.1:9"], bootstrap_timeout_ms=200,
                     request_timeout_ms=200, max_block_ms=0)
    assert kafka_producer_module.Sender is Sender
