"""kafka-python's producer with its network work run by the worker's asyncio loop, not a thread.

Why: a latency trace of one request at concurrency 1 (bench/RESULTS.md, "Round 3") showed two
thread hand-offs per event: the loop woke kafka-python's sender thread to send, and the sender
thread woke the loop with the acknowledgement; each paid a wake-up and a wait for the GIL
(~150 µs of a ~0.75 ms request). Here the same kafka-python code, `Sender.run_once` (drain the
accumulator, build and write the produce request, read and complete responses), is called by the
event loop whenever one of the producer's sockets or its wake-up socket is ready, and when
kafka-python's next timer is due; acknowledgements then complete the requests' futures on the
loop's own thread.

The producer is still kafka-python's KafkaProducer with its own accumulator, retries, metadata,
reconnects and SASL authentication. Other threads use it as before: partitions_for, flush and
close wait on events that the loop-driven sender sets, and wake it through kafka-python's
wake-up socket.

This relies on kafka-python internals (kafka-python==3.0.12 is pinned in requirements.txt):
KafkaProducer builds its Sender from the module name `kafka.producer.kafka.Sender`, the Sender's
`run_once`, `_running`, `_force_close`, `_accumulator`, `_client._net` (its NetworkSelector,
`_ready`, `_next_scheduled_timeout`) and the public `selector` option. A unit test checks each of
them, so an upgrade that changes one fails there; KAFKA_IO_ON_EVENT_LOOP=false goes back to
kafka-python's own sender thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import selectors
import threading
import time

import kafka.producer.kafka as kafka_producer_module
from kafka import KafkaProducer
from kafka.producer.sender import Sender

log = logging.getLogger(__name__)

ATTACH_TIMEOUT_S = 5.0
IDLE_RECHECK_S = 0.001
# While closing, step at least this often (the thread's close loop never sleeps long either).
CLOSING_STEP_S = 0.05
_CONSTRUCTION_LOCK = threading.Lock()


class LoopPolledSelector(selectors.DefaultSelector):
    """The producer's I/O multiplexer. It blocks as usual until the sender is attached to a
    loop (kafka-python bootstraps in the constructing thread); after that every select() is a
    non-blocking poll that keeps the timeout kafka-python asked for, and whether it found any
    event, for the loop to decide when to step again."""

    def __init__(self) -> None:
        super().__init__()
        self.polled_by_loop = False
        self.requested_timeout: float | None = None
        self.found_events = False

    def select(self, timeout=None):
        if not self.polled_by_loop:
            return super().select(timeout)
        self.requested_timeout = timeout
        events = super().select(0)
        self.found_events = bool(events)
        return events


class LoopDrivenSender(Sender):
    """kafka-python's Sender whose thread body (`run`) is stepped by an asyncio loop."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._next_step: asyncio.Handle | None = None
        self._step_pending = False
        self._stopped = threading.Event()
        self.steps = 0  # how often the loop ran it (tests bound it: no busy stepping)

    # --- the thread's interface, as KafkaProducer uses it ----------------------------

    def start(self) -> None:
        """No thread: `attach` hands the work to a loop."""

    def is_alive(self) -> bool:
        return self._loop is not None and not self._stopped.is_set()

    def join(self, timeout: float | None = None) -> None:
        if self._loop is None:  # never attached: nothing runs it, so close its sockets here
            if not self._stopped.is_set():
                self._stopped.set()
                self._client.close()
        elif threading.get_ident() != self._loop_thread:  # the loop cannot wait for itself
            self._stopped.wait(timeout)

    def wakeup(self) -> None:
        # send() on the loop's thread: step next, without the wake-up socket's round trip.
        # Any other thread (partitions_for, flush, close) writes to that socket as before, and
        # the loop sees it as a ready reader.
        if self._loop_thread is not None and threading.get_ident() == self._loop_thread:
            if not self._step_pending:
                self._step_pending = True
                self._loop.call_soon(self._step)
        else:
            super().wakeup()

    # --- the loop's side -------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop's thread: from now on this loop runs the sender."""
        if self._stopped.is_set() or self._loop is not None:
            return
        selector = self._client._net._selector
        selector.polled_by_loop = True
        self._loop, self._loop_thread = loop, threading.get_ident()
        loop.add_reader(selector.fileno(), self._step)
        self._step()

    def _step(self) -> None:
        self.steps += 1
        self._step_pending = False
        if self._stopped.is_set():
            return
        # The same condition as kafka-python's thread: run while open, then until every
        # accepted record has its outcome (unless closing by force).
        if self._running or (not self._force_close and (
                self._accumulator.has_undrained() or self._client.in_flight_request_count() > 0)):
            try:
                self.run_once()
            except Exception:  # as kafka-python's own thread does: log, and go on
                log.exception("Kafka producer I/O step failed")
            self._schedule_next_step()
        else:
            self._finish()

    def _schedule_next_step(self) -> None:
        if self._next_step is not None:
            self._next_step.cancel()
            self._next_step = None
        net = self._client._net
        if net._ready or net._selector.found_events:
            # kafka-python's thread calls run_once again at once: what this step handled (an
            # acknowledgement, a writable socket, a task made ready) may have made a batch
            # sendable. Only a step that found nothing waits, for I/O or for the timeout.
            self._next_step = self._loop.call_soon(self._step)
            return
        timeout = net._selector.requested_timeout
        if timeout == 0:
            # Found nothing, nothing ready, yet kafka-python asks to poll again at once: it does
            # so while its connection has a request in flight (max_in_flight reached: the node
            # is "not ready" and its connection_delay is 0) and another partition has a
            # sendable batch; its own thread then spins until the response arrives. The
            # response is I/O, which wakes the loop; the short timer is only a safety net.
            timeout = IDLE_RECHECK_S
        scheduled = net._next_scheduled_timeout(time.monotonic())  # timers set in this step
        if scheduled is not None:
            timeout = scheduled if timeout is None else min(timeout, scheduled)
        if not self._running:
            timeout = CLOSING_STEP_S if timeout is None else min(timeout, CLOSING_STEP_S)
        if timeout is not None:
            self._next_step = self._loop.call_later(timeout, self._step)

    def _finish(self) -> None:
        if self._force_close:  # fail what is left, waking whoever waits for it
            self._accumulator.abort_incomplete_batches()
        if self._next_step is not None:
            self._next_step.cancel()
        with contextlib.suppress(Exception):  # before the client closes the selector's fd
            self._loop.remove_reader(self._client._net._selector.fileno())
        try:
            self._client.close()
        except Exception:
            log.exception("closing the Kafka producer's network client failed")
        self._stopped.set()


class LoopProducer(KafkaProducer):
    """KafkaProducer whose sender runs on an asyncio loop from `attach(loop)` on. Built and
    attached from any thread; nothing is sent before it is attached."""

    def __init__(self, **configs) -> None:
        configs["selector"] = LoopPolledSelector
        # KafkaProducer builds its Sender from the module's name `Sender`: that name is the only
        # way in, swapped for the construction only (one construction at a time).
        with _CONSTRUCTION_LOCK:
            original = kafka_producer_module.Sender
            kafka_producer_module.Sender = LoopDrivenSender
            try:
                super().__init__(**configs)
            finally:
                kafka_producer_module.Sender = original
        self.runs_on_loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hand the sender to `loop` (running, on another thread, or this one's)."""
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._sender.attach(loop)
        else:
            attached = threading.Event()

            def attach_on_loop() -> None:
                try:
                    self._sender.attach(loop)
                finally:
                    attached.set()

            loop.call_soon_threadsafe(attach_on_loop)
            if not attached.wait(ATTACH_TIMEOUT_S):
                self._sender.join(0)  # it cannot attach any more once stopped
                raise TimeoutError("the event loop did not take the Kafka producer in time")
        self.runs_on_loop = loop
