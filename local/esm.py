"""A local stand-in for Lambda's Amazon MSK event source mapping, run against the local broker.

    python -m local.esm --topic events --on-failure jsonl:/tmp/esm-failures.jsonl

It behaves like the AWS poller where it matters to the handler and to operators:
- joins a consumer group over SASL_SSL + OAUTHBEARER (MSK IAM tokens), like the real mapping;
- builds events in exactly AWS's shape (`eventSource` aws:kafka, a local cluster ARN,
  `bootstrapServers`, records grouped as "<topic>-<partition>" and ordered by offset, base64
  key/value, headers as lists of byte values);
- honours the batch size, the batching window (how long to wait to fill a batch) and the 6 MB
  invocation payload limit;
- invokes the handler in-process (through a JSON round trip, like the Lambda invoke boundary)
  and commits offsets only after the handler succeeded;
- retries a failed batch up to `max_retry_attempts` (-1 = forever, AWS's default) and then writes
  AWS's on-failure record to a real local destination (JSONL file or SQLite) and moves on;
- processes one batch at a time, so per-partition order holds;
- on SIGINT/SIGTERM finishes the in-flight invocation, commits if it succeeded, and closes.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from local.deadletter_store import OnFailureDestination, destination_problem, open_destination
from local.paths import add_service_paths

logger = Logger(service="local-esm")

# Lambda's synchronous invocation payload limit.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
_ACCOUNT = "000000000000"  # a fake account id: nothing here talks to AWS
_CLUSTER_UUID = "00000000-0000-0000-0000-000000000000-1"
_MAX_BACKOFF_S = 5.0
_RECONNECT_BACKOFF_S = 1.0
_EMPTY_ASSIGNMENT_RESTART_S = 20.0

Handler = Callable[[dict[str, Any], Any], Any]


class SettingsError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class EsmSettings:
    bootstrap_servers: str
    topics: tuple[str, ...]
    on_failure: str = "jsonl:esm-on-failure.jsonl"
    group_id: str = "event-consumer"
    security_protocol: str = "SASL_SSL"
    region: str | None = None
    ca_file: str | None = None
    batch_size: int = 100
    batching_window_s: float = 0.5  # AWS's default for Kafka sources
    max_retry_attempts: int = 3
    retry_backoff_s: float = 0.5
    starting_position: str = "TRIM_HORIZON"
    function_name: str = "event-consumer-local"
    request_timeout_ms: int = 30_000

    @property
    def event_source_arn(self) -> str:
        region = self.region or "local"
        return f"arn:aws:kafka:{region}:{_ACCOUNT}:cluster/local/{_CLUSTER_UUID}"

    @property
    def function_arn(self) -> str:
        region = self.region or "local"
        return f"arn:aws:lambda:{region}:{_ACCOUNT}:function:{self.function_name}"


# ---------------------------------------------------------------- event and record shapes


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _msk_record(rec: Any) -> dict[str, Any]:
    """One kafka-python ConsumerRecord in the shape Lambda delivers it."""
    out: dict[str, Any] = {
        "topic": rec.topic,
        "partition": rec.partition,
        "offset": rec.offset,
        "timestamp": rec.timestamp,
        "timestampType": "LOG_APPEND_TIME" if rec.timestamp_type == 1 else "CREATE_TIME",
    }
    # Lambda leaves out a null key (its documented examples have records without one).
    if rec.key is not None:
        out["key"] = _b64(rec.key)
    if rec.value is not None:
        out["value"] = _b64(rec.value)
    out["headers"] = [{name: list(value or b"")} for name, value in (rec.headers or [])]
    return out


def build_msk_event(
    records: Sequence[Any], event_source_arn: str, bootstrap_servers: str
) -> dict[str, Any]:
    """The event Lambda sends for these records: grouped by topic-partition, offset order."""
    grouped: dict[str, list[Any]] = {}
    for rec in records:
        grouped.setdefault(f"{rec.topic}-{rec.partition}", []).append(rec)
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": event_source_arn,
        "bootstrapServers": bootstrap_servers,
        "records": {
            key: [_msk_record(r) for r in sorted(recs, key=lambda r: r.offset)]
            for key, recs in grouped.items()
        },
    }


def _iso_ms(epoch_ms: float) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def on_failure_record(
    records: Sequence[Any],
    settings: EsmSettings,
    invoke_count: int,
    payload_size: int,
    condition: str = "RetryAttemptsExhausted",
) -> dict[str, Any]:
    """AWS's on-failure (SQS/SNS) invocation record for a Kafka batch it gave up on."""
    info: dict[str, dict[str, str]] = {}
    for rec in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        key = f"{rec.topic}-{rec.partition}"
        entry = info.setdefault(
            key,
            {"firstRecordOffset": str(rec.offset), "firstRecordTimestamp": _iso_ms(rec.timestamp)},
        )
        entry["lastRecordOffset"] = str(rec.offset)
        entry["lastRecordTimestamp"] = _iso_ms(rec.timestamp)
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": settings.function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": (
            None
            if condition == "MaximumPayloadSizeExceeded"
            else {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
        ),
        "version": "1.0",
        "timestamp": _iso_ms(time.time() * 1000),
        "KafkaBatchInfo": {
            "batchSize": len(records),
            "eventSourceArn": settings.event_source_arn,
            "bootstrapServers": settings.bootstrap_servers,
            "payloadSize": payload_size,
            "recordsInfo": info,
        },
    }


class _NothingAssigned(Exception):
    """The group gave this poller no partitions; handled like a lost connection."""


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    timeout_s: float = 30.0
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


@dataclass(frozen=True)
class BatchOutcome:
    """What happened to one batch; handed to the `on_batch` hook."""

    records: int
    invocations: int
    succeeded: bool
    committed: dict[str, int]  # "<topic>-<partition>" -> next offset committed
    on_failure_written: bool


# ---------------------------------------------------------------- the poller


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
        from kafka.errors import KafkaError

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
                    # Like AWS's pollers, survive a broker outage: drop what was polled but not
                    # committed and start again from the committed offsets once Kafka is back.
                    # A batch processed but not committed is delivered again (at least once).
                    logger.warning("Kafka unavailable; restarting the poller from the committed "
                                   "offsets", extra={"error": repr(err)})
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

    def _consumer(self) -> Any:
        from event_api.kafka_auth import client_security_options
        from kafka import KafkaConsumer

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
            elif time.monotonic() - self._consumer_started > _EMPTY_ASSIGNMENT_RESTART_S:
                # Joined while partition leaders were still being elected (right after a broker
                # restart) and was assigned nothing: kafka-python would idle until its next
                # metadata refresh (5 minutes). Start again, as a restarted poller would.
                raise _NothingAssigned(f"no partitions assigned after "
                                       f"{_EMPTY_ASSIGNMENT_RESTART_S:.0f} s")
            for recs in polled.values():
                self._pending.extend(recs)
        return batch

    def _commit(self, consumer: Any, batch: Sequence[Any]) -> dict[str, int]:
        from kafka.structs import OffsetAndMetadata, TopicPartition

        next_offsets: dict[tuple[str, int], int] = {}
        for rec in batch:
            tp = (rec.topic, rec.partition)
            next_offsets[tp] = max(next_offsets.get(tp, 0), rec.offset + 1)
        consumer.commit(
            {
                TopicPartition(t, p): OffsetAndMetadata(offset, "", -1)
                for (t, p), offset in next_offsets.items()
            }
        )
        return {f"{t}-{p}": offset for (t, p), offset in next_offsets.items()}

    # -- one batch

    def _deliver(self, consumer: Any, batch: list[Any]) -> None:
        s = self.settings
        payload = json.dumps(
            build_msk_event(batch, s.event_source_arn, s.bootstrap_servers),
            separators=(",", ":"),
        )
        attempts = 0
        succeeded = False
        while True:
            attempts += 1
            self.invocations += 1
            try:
                context = LocalLambdaContext(s.function_name, s.function_arn)
                # A fresh decode per attempt: the handler must not see a previous attempt's edits.
                self.handler(json.loads(payload), context)
                succeeded = True
                break
            except Exception as err:  # noqa: BLE001 - any handler error fails the invocation
                logger.warning(
                    "invocation failed",
                    extra={"attempt": attempts, "records": len(batch), "error": repr(err)},
                )
            retries_done = attempts - 1
            if s.max_retry_attempts >= 0 and retries_done >= s.max_retry_attempts:
                break
            backoff = min(s.retry_backoff_s * 2**retries_done, _MAX_BACKOFF_S)
            if self._stop.wait(backoff):
                # Shutting down mid-retry: leave the offsets uncommitted so the batch is
                # delivered again on the next start, as AWS would after a poller restart.
                logger.info("stopping during retries; batch left uncommitted for redelivery")
                self._report(BatchOutcome(len(batch), attempts, False, {}, False))
                return

        written = False
        if not succeeded:
            record = on_failure_record(batch, s, attempts, len(payload.encode("utf-8")))
            self.destination.write(record)
            written = True
            logger.error(
                "retries exhausted; on-failure record written, moving on",
                extra={"destination": self.destination.uri, "records": len(batch)},
            )
        committed = self._commit(consumer, batch)
        self.batches += 1
        self._report(BatchOutcome(len(batch), attempts, succeeded, committed, written))

    def _report(self, outcome: BatchOutcome) -> None:
        if self.on_batch is not None:
            self.on_batch(outcome)


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


# ---------------------------------------------------------------- configuration and CLI


def _number(problems: list[str], name: str, text: str, low, high, parse=int):
    """`parse(text)` within [low, high]; a problem is recorded (and `low` returned) otherwise."""
    try:
        value = parse(text)
    except ValueError:
        kind = "an integer" if parse is int else "a number"
        problems.append(f"{name} must be {kind}, got {text!r}")
        return low
    if not low <= value <= high:
        problems.append(f"{name} must be between {low} and {high}, got {value}")
    return value


def _int(problems: list[str], name: str, text: str, low: int, high: int) -> int:
    return _number(problems, name, text, low, high, int)


def _float(problems: list[str], name: str, text: str, low: float, high: float) -> float:
    return _number(problems, name, text, low, high, float)


def _parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    e = env.get
    p = argparse.ArgumentParser(prog="python -m local.esm", description=__doc__.split("\n")[0])
    p.add_argument("--bootstrap-servers", default=e("KAFKA_BOOTSTRAP_SERVERS", ""))
    p.add_argument("--topic", default=e("KAFKA_TOPIC", ""), help="comma-separated topics")
    p.add_argument("--group-id", default=e("ESM_CONSUMER_GROUP_ID", "event-consumer"))
    p.add_argument("--security-protocol", default=e("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"))
    p.add_argument("--region", default=e("AWS_REGION", ""))
    p.add_argument("--ca-file", default=e("KAFKA_CA_FILE", ""))
    p.add_argument("--batch-size", default=e("ESM_BATCH_SIZE", "100"))
    p.add_argument("--batching-window-s", default=e("ESM_BATCHING_WINDOW_S", "0.5"))
    p.add_argument("--max-retry-attempts", default=e("ESM_MAX_RETRY_ATTEMPTS", "3"))
    p.add_argument("--retry-backoff-s", default=e("ESM_RETRY_BACKOFF_S", "0.5"))
    p.add_argument("--starting-position", default=e("ESM_STARTING_POSITION", "TRIM_HORIZON"))
    p.add_argument(
        "--on-failure",
        default=e("ESM_ON_FAILURE", "jsonl:esm-on-failure.jsonl"),
        help="jsonl:PATH or sqlite:PATH",
    )
    return p


def load_settings(
    argv: Sequence[str] | None = None, env: Mapping[str, str] = os.environ
) -> EsmSettings:
    """Flags override environment variables; every bad value is reported, not just the first."""
    args = _parser(env).parse_args(argv)
    problems: list[str] = []
    if not args.bootstrap_servers.strip():
        problems.append("KAFKA_BOOTSTRAP_SERVERS (--bootstrap-servers) is required")
    topics = tuple(t.strip() for t in args.topic.split(",") if t.strip())
    if not topics:
        problems.append("KAFKA_TOPIC (--topic) is required")
    if args.security_protocol not in ("SASL_SSL", "PLAINTEXT"):
        problems.append(
            f"KAFKA_SECURITY_PROTOCOL must be SASL_SSL or PLAINTEXT, got {args.security_protocol!r}"
        )
    if args.security_protocol == "SASL_SSL" and not args.region:
        problems.append("AWS_REGION (--region) is required for SASL_SSL (MSK IAM tokens)")
    if args.ca_file and not os.path.isfile(args.ca_file):
        problems.append(f"KAFKA_CA_FILE {args.ca_file!r} is not a file")
    if args.starting_position not in ("TRIM_HORIZON", "LATEST"):
        problems.append(
            f"ESM_STARTING_POSITION must be TRIM_HORIZON or LATEST, got {args.starting_position!r}"
        )
    dest_problem = destination_problem(args.on_failure)
    if dest_problem:
        problems.append(f"ESM_ON_FAILURE (--on-failure): {dest_problem}")
    settings = EsmSettings(
        bootstrap_servers=args.bootstrap_servers.strip(),
        topics=topics,
        on_failure=args.on_failure,
        group_id=args.group_id,
        security_protocol=args.security_protocol,
        region=args.region or None,
        ca_file=args.ca_file or None,
        # Limits as AWS documents them for Kafka event source mappings.
        batch_size=_int(problems, "ESM_BATCH_SIZE", args.batch_size, 1, 10_000),
        batching_window_s=_float(problems, "ESM_BATCHING_WINDOW_S", args.batching_window_s, 0, 300),
        max_retry_attempts=_int(
            problems, "ESM_MAX_RETRY_ATTEMPTS", args.max_retry_attempts, -1, 10_000
        ),
        retry_backoff_s=_float(problems, "ESM_RETRY_BACKOFF_S", args.retry_backoff_s, 0, 60),
        starting_position=args.starting_position,
    )
    if problems:
        raise SettingsError(problems)
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = load_settings(argv)
    except SettingsError as err:
        for problem in err.problems:
            print(f"local.esm: configuration error: {problem}", file=sys.stderr)
        return 2
    add_service_paths()  # `python -m local.esm` runs from the repo root
    from event_consumer.deadletter import sink_from_env
    from event_consumer.errors import ConfigError
    from event_consumer.handler import build_handler

    try:
        # The handler's own configuration is checked now, not at the first invocation.
        sink = sink_from_env()
    except ConfigError as err:
        for problem in err.problems:
            print(f"local.esm: handler configuration error: {problem}", file=sys.stderr)
        return 2
    esm = LocalEventSourceMapping(settings, handler=build_handler(sink=sink))

    def _graceful(signum: int, _frame: Any) -> None:
        logger.info("signal received; finishing the in-flight batch", extra={"signal": signum})
        esm.request_stop()

    signal.signal(signal.SIGINT, _graceful)
    signal.signal(signal.SIGTERM, _graceful)
    logger.info(
        "local event source mapping starting",
        extra={
            "topics": settings.topics,
            "group_id": settings.group_id,
            "batch_size": settings.batch_size,
            "batching_window_s": settings.batching_window_s,
            "max_retry_attempts": settings.max_retry_attempts,
            "on_failure": settings.on_failure,
        },
    )
    from event_api.kafka_auth import MissingAwsCredentials
    from kafka.errors import KafkaError

    try:
        esm.run()
    except (MissingAwsCredentials, KafkaError, OSError) as err:
        print(f"local.esm: stopped: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
