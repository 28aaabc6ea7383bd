"""The real Publisher: one Kafka producer per worker process, connected in the background.

Start-up never waits for Kafka: ECS must not crash-loop because MSK is briefly unavailable.
Until the first connection succeeds and the topic exists (retried with capped backoff) /readyz
and /current_time answer 503 and say why; liveness stays 200. After that, a periodic topic probe
and every send outcome keep /readyz honest when the broker goes away and comes back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from kafka import errors as kafka_errors

from event_api.events import OutgoingRecord
from event_api.kafka_failures import ConnectionFailureWatcher, describe_connect_failure
from event_api.kafka_producer_config import producer_config
from event_api.kafka_send import send_and_wait
from event_api.kafka_topic import topic_problem
from event_api.publisher_protocol import TIMEOUT, UNAVAILABLE, PublishError
from event_api.settings import Settings

log = logging.getLogger(__name__)

ADMIN_TIMEOUT_MS = 10_000
CLOSE_TIMEOUT_S = 5.0


class TopicNotReady(Exception):
    """The topic does not exist (yet) or cannot be used; the message says which."""


def _default_security_options(settings: Settings) -> dict:
    # Imported late: building the MSK IAM token provider is the auth module's job.
    from msk_iam_client import client_security_options

    return client_security_options(
        settings.security_protocol, settings.region, settings.ca_file
    )


def _producer_class(settings: Settings):
    """kafka-python's producer, with its network work on the event loop unless turned off."""
    if settings.kafka_io_on_event_loop:
        from event_api.kafka_loop_sender import LoopProducer

        return LoopProducer
    from kafka import KafkaProducer

    return KafkaProducer


def _default_admin(**config):
    from kafka import KafkaAdminClient

    return KafkaAdminClient(**config)


class KafkaPublisher:
    def __init__(
        self,
        settings: Settings,
        *,
        security_options=_default_security_options,
        producer_factory=None,
        admin_factory=_default_admin,
        retry_initial_s: float = 1.0,
        retry_max_s: float = 15.0,
        probe_interval_s: float = 5.0,
    ):
        self._settings = settings
        self._security_options = security_options
        self._producer_factory = producer_factory or _producer_class(settings)
        self._admin_factory = admin_factory
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._probe_interval_s = probe_interval_s
        self._producer = None
        self._admin = None
        self._reason = "connecting to Kafka"
        self._last_ok = 0.0
        self._last_failure = 0.0
        self._closing = False
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watcher = ConnectionFailureWatcher(logging.getLevelName(settings.log_level))
        self._io_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-admin")

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._watcher.install()
        self._task = asyncio.create_task(self._run(), name="kafka-connect")

    def readiness(self) -> tuple[bool, str]:
        if self._producer is None:
            return False, self._reason
        if self._last_failure > self._last_ok:
            return False, self._reason
        return True, f"connected; topic {self._settings.topic!r} exists"

    async def publish(self, record: OutgoingRecord) -> None:
        budget_s = self._settings.send_timeout_ms / 1000
        started = time.monotonic()
        if self._producer is None:
            # Each worker connects on its own; a request that reaches a worker still connecting
            # (just after start-up) waits for it within the same bounded budget.
            await self._wait_connected(budget_s)
            if self._producer is None:
                raise PublishError(UNAVAILABLE, f"Kafka is not ready: {self._reason}")
        try:
            await send_and_wait(self._producer, self._settings.topic, record,
                                max(0.001, budget_s - (time.monotonic() - started)))
        except PublishError as exc:
            if exc.reason in (TIMEOUT, UNAVAILABLE):
                self._mark_failure(f"last send failed: {exc.detail}")
            raise
        self._mark_ok()

    async def _wait_connected(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while self._producer is None and not self._closing and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        loop = asyncio.get_running_loop()
        # On the connect thread, after any attempt still running there: the attempt sees
        # _closing and closes what it opened, so nothing is abandoned mid-flight.
        await loop.run_in_executor(self._io_executor, self._close_clients)
        self._io_executor.shutdown(wait=False, cancel_futures=True)
        self._watcher.uninstall()

    # --- background work -------------------------------------------------------------

    async def _run(self) -> None:
        delay = self._retry_initial_s
        while not self._closing:
            try:
                await self._in_io_thread(self._connect_once)
                # Until a connection succeeds, an authentication failure seen by any attempt
                # stays the reason: a later attempt may only see the broker hang up on it.
                self._watcher.reset()
                break
            except TopicNotReady as exc:
                self._reason = str(exc)
                log.warning("Kafka topic not ready; retrying",
                            extra={"fields": {"reason": self._reason, "retry_in_s": delay}})
            except Exception as exc:  # noqa: BLE001 - any failure: log, stay up, retry
                self._reason = describe_connect_failure(exc, self._watcher) + "; retrying"
                log.warning("Kafka connection attempt failed; retrying",
                            extra={"fields": {"reason": self._reason, "retry_in_s": delay}})
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max_s)
        probe = None
        while not self._closing:
            await asyncio.sleep(self._probe_interval_s)
            if probe is None or probe.done():
                probe = self._in_io_thread(self._probe)
            done, _ = await asyncio.wait({probe}, timeout=ADMIN_TIMEOUT_MS / 1000)
            if not done:
                self._mark_failure("Kafka topic probe timed out")
            elif probe.exception() is not None:
                error = probe.exception()
                self._mark_failure(str(error) if isinstance(error, TopicNotReady)
                                   else f"Kafka topic probe failed ({type(error).__name__})")
            else:
                self._mark_ok()

    def _in_io_thread(self, work) -> asyncio.Future:
        """Run `work` on the Kafka I/O thread. Shielded, with its outcome always consumed: at
        shutdown the task awaiting it is cancelled, and an abandoned future that later fails
        would be logged as an ERROR ("Future exception was never retrieved")."""
        future = asyncio.get_running_loop().run_in_executor(self._io_executor, work)
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        return asyncio.shield(future)

    def _connect_once(self) -> None:
        if self._closing:
            return
        settings = self._settings
        options = self._security_options(settings)
        admin, producer = self._admin, None
        try:
            if admin is None:
                admin = self._admin_factory(
                    bootstrap_servers=list(settings.bootstrap_servers),
                    client_id="event-api-admin",
                    request_timeout_ms=ADMIN_TIMEOUT_MS,
                    bootstrap_timeout_ms=5000,
                    reconnect_backoff_max_ms=2000,
                    **options,
                )
                self._admin = admin  # kept across attempts while the topic is missing
            problem = topic_problem(admin, settings.topic)
            if problem:
                raise TopicNotReady(problem)
            producer = self._producer_factory(**producer_config(settings, options))
            attach = getattr(producer, "attach", None)
            if attach is not None:  # its network work runs on our loop from now on
                attach(self._loop)
            load_topic_metadata(producer, settings.topic, ADMIN_TIMEOUT_MS / 1000)
        except TopicNotReady:
            raise
        except BaseException:
            self._admin = None
            _quietly_close(producer, admin)
            raise
        if self._closing:  # shutdown began while we were connecting
            _quietly_close(producer, None)
            return
        self._producer = producer
        self._mark_ok()
        log.info("Kafka producer connected", extra={"fields": {"topic": settings.topic}})

    def _probe(self) -> None:
        problem = topic_problem(self._admin, self._settings.topic)
        if problem:
            raise TopicNotReady(problem)

    def _close_clients(self) -> None:
        if self._producer is not None:
            try:
                # flush first: every request still waiting gets its real outcome.
                self._producer.close(timeout=CLOSE_TIMEOUT_S)
                log.info("Kafka producer flushed and closed")
            except Exception as exc:  # noqa: BLE001 - shutdown must finish regardless
                log.warning("closing the Kafka producer failed",
                            extra={"fields": {"error": str(exc)}})
        _quietly_close(None, self._admin)

    def _mark_ok(self) -> None:
        self._last_ok = time.monotonic()

    def _mark_failure(self, reason: str) -> None:
        self._reason = reason
        self._last_failure = time.monotonic()


def load_topic_metadata(producer, topic: str, timeout_s: float) -> None:
    """Requests' send() never waits for metadata (max_block_ms=0: it would fail instead), so
    the topic's partitions are loaded here, on the I/O thread, before the first request."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            producer.partitions_for(topic)  # asks for the metadata, fails at once until loaded
            return
        except kafka_errors.KafkaTimeoutError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def _quietly_close(producer, admin) -> None:
    closers = []
    if producer is not None:
        closers.append(lambda: producer.close(timeout=1))
    if admin is not None:
        closers.append(admin.close)
    for close in closers:
        try:
            close()
        except Exception:  # noqa: BLE001, S110 - best effort on an already failing path
            pass
