"""The poller: join the group, batch, invoke the handler, commit only after success, retry (the
whole batch, or with ReportBatchItemFailures what the partial batch response names), and write
AWS's on-failure record when it gives up on records."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from local.esm.aws_shapes import (
    MAX_PAYLOAD_BYTES,
    LocalLambdaContext,
    build_msk_event,
    on_failure_record,
)
from local.esm.on_failure import OnFailureDestination, open_destination
from local.esm.settings import EsmSettings

logger = Logger(service="local-esm")

_MAX_BACKOFF_S = 5.0
_RECONNECT_BACKOFF_S = 1.0
_EMPTY_ASSIGNMENT_RESTART_S = 20.0

Handler = Callable[[dict[str, Any], Any], Any]


class _NothingAssigned(Exception):
    """The group gave this poller no partitions; handled like a lost connection."""


@dataclass(frozen=True)
class BatchOutcome:
    """What happened to one batch; handed to the `on_batch` hook."""

    records: int
    invocations: int
    succeeded: bool
    committed: dict[str, int]  # "<topic>-<partition>" -> next offset committed
    on_failure_written: bool


def _default_handler() -> Handler:
    from event_consumer.handler import lambda_handler

    return lambda_handler


class LocalEventSourceMapping:
    """Poll, batch, invoke, commit. Run with `run()` (blocking) or `start()` (a thread)."""

    def __init__(
        self,
        settings: EsmSettings,
        handler: Handler | None = None,
        destination: OnFailureDestination | None = None,
        on_batch: Callable[[BatchOutcome], None] | None = None,
    ) -> None:
        self.settings = settings
        self.handler = handler or _default_handler()
        self.destination = destination or open_destination(settings.on_failure)
        self.on_batch = on_batch
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: deque[Any] = deque()  # polled but not yet batched (payload limit)
        self._consumer_started = time.monotonic()
        self.error: BaseException | None = None
        # Like the AWS mapping's LastProcessingResult: why it is not consuming, while it retries.
        self.last_processing_result: str | None = None
        self.batches = 0
        self.invocations = 0

    # -- lifecycle

    def start(self) -> LocalEventSourceMapping:
        self._thread = threading.Thread(target=self._run_captured, name="local-esm", daemon=True)
        self._thread.start()
        return self

    def _run_captured(self) -> None:
        try:
            self.run()
        except BaseException as err:  # noqa: BLE001 - surfaced to the owner via .error
            self.error = err
            logger.exception("local event source mapping stopped on an error")

    def request_stop(self) -> None:
        """Ask the loop to finish the in-flight invocation and stop (safe from signal handlers)."""
        self._stop.set()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the in-flight invocation, commit if it succeeded, close the consumer."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                raise TimeoutError(f"local ESM did not stop within {timeout_s} s")

    def wait_ready(self, timeout_s: float = 30.0) -> bool:
        """True once the consumer has joined the group and has partitions assigned."""
        return self._ready.wait(timeout_s)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        from kafka.errors import AuthorizationError, KafkaError

        consumer = None
        try:
            while not self._stop.is_set():
                try:
                    if consumer is None:
                        consumer = self._consumer()
                    batch = self._collect(consumer)
                    if batch:
                        self._deliver(consumer, batch)
                except (KafkaError, _NothingAssigned) as err:
                    if isinstance(err, _NothingAssigned):
                        err = self._topic_authorization_error() or err
                    if isinstance(err, AuthorizationError):
                        self._report_unauthorized(err)
                    else:
                        # Like AWS's pollers, survive a broker outage: drop what was polled but
                        # not committed and start again from the committed offsets once Kafka is
                        # back. A batch processed but not committed is delivered again.
                        logger.warning("Kafka unavailable; restarting the poller from the "
                                       "committed offsets", extra={"error": repr(err)})
                    self._pending.clear()
                    if consumer is not None:
                        _close_quietly(consumer)
                        consumer = None
                    self._stop.wait(_RECONNECT_BACKOFF_S)
        finally:
            if consumer is not None:
                consumer.close(autocommit=False)
            logger.info("local event source mapping stopped", extra={"batches": self.batches})

    # -- Kafka

    def _report_unauthorized(self, err: Exception) -> None:
        """AWS's mapping shows "Cluster failed to authorize Lambda" as its LastProcessingResult
        when the execution role lacks a kafka-cluster permission, and keeps polling (a fixed role
        takes effect within minutes): Lambda guide, "Troubleshooting Kafka event source mapping
        errors" (https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-troubleshoot.html).
        Logged once per distinct error; the broker log's MSK IAM DENY line names the action."""
        result = f"PROBLEM: Cluster failed to authorize Lambda: {err}"
        if result != self.last_processing_result:
            logger.error(result, extra={"error": repr(err)})
        self.last_processing_result = result

    def _topic_authorization_error(self) -> Exception | None:
        """kafka-python's consumer only logs a subscribed topic it may not describe and waits
        unassigned; ask the broker, with the same credentials, whether that is why."""
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError, TopicAuthorizationFailedError
        from msk_iam_client import client_security_options

        s = self.settings
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=s.bootstrap_servers.split(","),
                request_timeout_ms=s.request_timeout_ms, bootstrap_timeout_ms=10_000,
                **client_security_options(s.security_protocol, s.region, s.ca_file))
            try:
                described = admin.describe_topics(list(s.topics))
            finally:
                admin.close()
        except KafkaError:
            return None  # not an answer about authorization; handled as a Kafka outage
        denied = [t["name"] for t in described
                  if t["error_code"] == TopicAuthorizationFailedError.errno]
        return TopicAuthorizationFailedError(*denied) if denied else None

    def _consumer(self) -> Any:
        from kafka import KafkaConsumer
        from msk_iam_client import client_security_options

        s = self.settings
        consumer = KafkaConsumer(
            bootstrap_servers=s.bootstrap_servers.split(","),
            group_id=s.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest" if s.starting_position == "TRIM_HORIZON" else "latest",
            max_poll_records=s.batch_size,
            request_timeout_ms=s.request_timeout_ms,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=3_000,
            # The handler runs between polls; this bounds how long one invocation may take.
            max_poll_interval_ms=300_000,
            client_id=f"local-esm-{s.function_name}",
            # After a broker restart: reconnect within seconds, not kafka-python's growing backoff.
            reconnect_backoff_max_ms=2_000,
            **client_security_options(s.security_protocol, s.region, s.ca_file),
        )
        consumer.subscribe(list(s.topics))
        self._consumer_started = time.monotonic()
        return consumer

    def _collect(self, consumer: Any) -> list[Any]:
        """Up to batch_size records: wait up to the batching window after the first one."""
        s = self.settings
        batch: list[Any] = []
        size = 0
        deadline: float | None = None
        while not self._stop.is_set():
            while self._pending and len(batch) < s.batch_size:
                rec = self._pending[0]
                rec_size = _approx_size(rec)
                if batch and size + rec_size > MAX_PAYLOAD_BYTES:
                    return batch  # the rest waits for the next batch
                batch.append(self._pending.popleft())
                size += rec_size
            if len(batch) >= s.batch_size:
                return batch
            if batch and deadline is None:
                deadline = time.monotonic() + s.batching_window_s
            if deadline is not None and time.monotonic() >= deadline:
                return batch
            wait_s = 0.2 if deadline is None else max(0.0, deadline - time.monotonic())
            polled = consumer.poll(
                timeout_ms=int(min(wait_s, 0.2) * 1000), max_records=s.batch_size - len(batch)
            )
            if consumer.assignment():
                self._ready.set()
                self.last_processing_result = None
            elif time.monotonic() - self._consumer_started > _EMPTY_ASSIGNMENT_RESTART_S:
                # Joined while partition leaders were still being elected (right after a broker
                # restart) and was assigned nothing: kafka-python would idle until its next
                # metadata refresh (5 minutes). Start again, as a restarted poller would.
                raise _NothingAssigned(f"no partitions assigned after "
                                       f"{_EMPTY_ASSIGNMENT_RESTART_S:.0f} s")
            for recs in polled.values():
                self._pending.extend(recs)
        return batch

    def _commit(self, consumer: Any, batch: Sequence[Any],
                pending: Sequence[Any] = ()) -> dict[str, int]:
        """Commit each partition of the batch up to its first record still `pending` (all of it
        when nothing is pending). A partition with nothing done is left alone."""
        from kafka.structs import OffsetAndMetadata, TopicPartition

        first_pending: dict[tuple[str, int], int] = {}
        for rec in pending:
            tp = (rec.topic, rec.partition)
            first_pending[tp] = min(first_pending.get(tp, rec.offset), rec.offset)
        next_offsets: dict[tuple[str, int], int] = {}
        for rec in batch:
            tp = (rec.topic, rec.partition)
            if tp in first_pending:
                if rec.offset < first_pending[tp]:
                    next_offsets[tp] = first_pending[tp]
            else:
                next_offsets[tp] = max(next_offsets.get(tp, 0), rec.offset + 1)
        if next_offsets:
            consumer.commit({
                TopicPartition(t, p): OffsetAndMetadata(offset, "", -1)
                for (t, p), offset in next_offsets.items()
            })
        return {f"{t}-{p}": offset for (t, p), offset in next_offsets.items()}

    # -- one batch

    def _invoke(self, records: list[Any]) -> tuple[list[Any] | None, int]:
        """Invoke once; returns (records still to retry, payload bytes).
        [] = success; None = the whole invocation failed; else what the partial response names."""
        s = self.settings
        payload = json.dumps(build_msk_event(records, s.event_source_arn, s.bootstrap_servers),
                             separators=(",", ":"))
        self.invocations += 1
        try:
            context = LocalLambdaContext(s.function_name, s.function_arn)
            # A fresh decode per attempt: the handler must not see a previous attempt's edits.
            response = self.handler(json.loads(payload), context)
            # Through JSON, like the response crossing the invoke boundary.
            response = json.loads(json.dumps(response))
        except Exception as err:  # noqa: BLE001 - any handler error fails the invocation
            logger.warning("invocation failed", extra={"records": len(records),
                                                        "error": repr(err)})
            return None, len(payload)
        if not s.report_batch_item_failures:
            return [], len(payload)  # without ReportBatchItemFailures AWS ignores the response
        retry = partial_batch_retry(response, records)
        if retry is None:
            logger.warning("invalid partial batch response; the whole batch failed",
                           extra={"response": str(response)[:500]})
        return retry, len(payload)

    def _deliver(self, consumer: Any, batch: list[Any]) -> None:
        s = self.settings
        pending = list(batch)
        attempts = 0
        payload_size = 0
        while True:
            attempts += 1
            retry, payload_size = self._invoke(pending)
            if retry is not None:
                pending = retry
            if not pending:
                break
            retries_done = attempts - 1
            if s.max_retry_attempts >= 0 and retries_done >= s.max_retry_attempts:
                break
            backoff = min(s.retry_backoff_s * 2**retries_done, _MAX_BACKOFF_S)
            if self._stop.wait(backoff):
                # Shutting down mid-retry: commit what succeeded, leave the rest uncommitted so
                # it is delivered again on the next start, as AWS would after a poller restart.
                logger.info("stopping during retries; the failed records are left uncommitted")
                committed = self._commit(consumer, batch, pending)
                self._report(BatchOutcome(len(batch), attempts, False, committed, False))
                return

        written = False
        if pending:
            record = on_failure_record(pending, s, attempts, payload_size)
            if not self._write_on_failure(record, len(pending)):
                # Stopping while the destination is down: nothing is committed, so the batch
                # is delivered again on the next start (at least once, never lost).
                committed = self._commit(consumer, batch, pending)
                self._report(BatchOutcome(len(batch), attempts, False, committed, False))
                return
            written = True
            logger.error(
                "retries exhausted; on-failure record written, moving on",
                extra={"destination": self.destination.uri, "records": len(pending)},
            )
        committed = self._commit(consumer, batch)  # done, or handed to the destination
        self.batches += 1
        self._report(BatchOutcome(len(batch), attempts, not pending, committed, written))

    def _write_on_failure(self, record: dict[str, Any], records: int) -> bool:
        """Write the on-failure record, retrying (backoff up to 5 s) while the destination is
        down: the batch's offsets move only once it is stored, so an outage of the queue
        stalls the mapping instead of ending it or losing the batch. False if asked to stop
        first. (AWS's mapping, too, keeps a batch until its destination accepted it: Lambda
        guide, "Capturing discarded batches for Amazon MSK", kafka-on-failure.html.)"""
        delay = self.settings.retry_backoff_s or 0.5
        while True:
            try:
                self.destination.write(record)
            except Exception as err:  # noqa: BLE001 - any failure of the store: retry, never drop
                self.last_processing_result = (
                    f"PROBLEM: on-failure destination unavailable: {err!r}")
                logger.error("on-failure destination unavailable; the batch stays uncommitted "
                             "and is written again after a pause",
                             extra={"destination": self.destination.uri, "records": records,
                                    "retry_in_s": delay, "error": repr(err)})
                if self._stop.wait(delay):
                    return False
                delay = min(delay * 2, _MAX_BACKOFF_S)
                continue
            self.last_processing_result = None
            return True

    def _report(self, outcome: BatchOutcome) -> None:
        if self.on_batch is not None:
            self.on_batch(outcome)


def partial_batch_retry(response: Any, records: Sequence[Any]) -> list[Any] | None:
    """The records a Kafka partial batch response sends back, as AWS reads it.

    `{"batchItemFailures": [{"itemIdentifier": {"partition": "<topic>-<partition>", "offset": n}}]}`
    names, per partition, the record to resume from: it and every later record of that partition
    are retried, the other partitions succeeded. An empty or null list, or a null/empty response,
    is a complete success; an identifier that is empty, malformed or not in the batch makes the
    whole batch a failure (None). Lambda guide, "Configuring error handling controls for Kafka
    event sources" (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html)
    and the success/failure conditions of "Configuring partial batch response with Kinesis Data
    Streams and Lambda" (the same rules for stream sources).
    """
    if not response:
        return []
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if not failures:
        return []
    if not isinstance(failures, list):
        return None
    offsets = {(f"{r.topic}-{r.partition}", r.offset) for r in records}
    resume: dict[str, int] = {}
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(item, dict):
            return None
        group, offset = item.get("partition"), item.get("offset")
        if type(offset) is not int or (group, offset) not in offsets:
            return None
        resume[group] = min(resume.get(group, offset), offset)
    return [r for r in records
            if r.offset >= resume.get(f"{r.topic}-{r.partition}", r.offset + 1)]


def _close_quietly(consumer: Any) -> None:
    try:
        consumer.close(autocommit=False)
    except Exception as err:  # noqa: BLE001 - the connection is already broken; nothing to save
        logger.info("closing a broken consumer failed", extra={"error": repr(err)})


def _approx_size(rec: Any) -> int:
    """Bytes this record adds to the JSON event (base64 grows data by 4/3; field names etc.)."""
    raw = len(rec.key or b"") + len(rec.value or b"")
    headers = sum(len(k) + 4 * len(v or b"") for k, v in (rec.headers or []))
    return raw * 4 // 3 + headers + 200
