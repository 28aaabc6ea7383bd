"""Dead letters: one JSON format, two sinks (SQS + S3 in AWS, SQLite locally), chosen by env.

A letter (SQS message body, S3 object, SQLite row body alike):
  {"letter_id", "reason", "topic", "partition", "offset", "timestamp", "key", "value", "headers",
   "dead_lettered_at"}
`key`/`value`/`headers` are exactly what the mapping delivered (base64 strings and
{name: [byte, ...]} lists, or whatever a broken producer sent), so `replay` can re-publish the
original bytes even when they never decoded. `letter_id` is the record's content address
(records.record_id): a redelivered record gets the same id, a different record a different one.

A letter larger than one SQS message travels as a pointer (see sqs_sink.py):
  {"letter_id", "reason", "topic", "partition", "offset", "dead_lettered_at",
   "s3": {"bucket", "key", "bytes", "sha256"}}

The same queue also receives the event source mapping's own on-failure records, which carry
only metadata (`KafkaBatchInfo`); `replay` tells the three kinds apart with `letter_kind`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from event_consumer.errors import ConfigError
from event_consumer.records import MskRecord, record_id

QUEUE_URL_ENV = "DEAD_LETTER_QUEUE_URL"
BUCKET_ENV = "DEAD_LETTER_BUCKET"
SQLITE_PATH_ENV = "DEAD_LETTER_SQLITE_PATH"
REASON_MAX_CHARS = 500  # a reason quotes producer data (a header name); keep pointers small

# S3 bucket naming rules (S3 user guide, "General purpose bucket naming rules").
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")


def dead_letter(record: MskRecord, reason: str, now: datetime | None = None) -> dict[str, Any]:
    """The dead-letter document for one record, its payload exactly as delivered."""
    now = now or datetime.now(UTC)
    get = record.raw.get
    letter_id = record_id(get("topic"), get("partition"), get("offset"), get("timestamp"),
                          get("key"), get("value"), get("headers"))
    if not record.well_formed:  # no usable coordinates: where it sat in the event names it
        try:
            shape = repr(record.raw)[:100_000]
        except RecursionError:
            shape = "nested too deeply to print"
        letter_id = record_id(record.group, record.position, None, None, None, shape, letter_id)
    letter = {
        "letter_id": letter_id,
        "reason": reason[:REASON_MAX_CHARS],
        "topic": get("topic"),
        "partition": get("partition"),
        "offset": get("offset"),
        "timestamp": get("timestamp"),
        "key": get("key"),
        "value": get("value"),
        "headers": get("headers"),
        "dead_lettered_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if "malformed" in record.raw:  # the mapping sent something that is not a record object
        letter["malformed"] = record.raw["malformed"]
    return letter


def letter_kind(body: Any) -> str:
    """"letter" (payload inside), "pointer" (payload in S3), "batch-info" (the mapping's
    metadata-only on-failure record) or "unknown"."""
    if not isinstance(body, dict):
        return "unknown"
    if isinstance(body.get("KafkaBatchInfo"), dict):
        return "batch-info"
    if isinstance(body.get("s3"), dict) and "letter_id" in body:
        return "pointer"
    if "letter_id" in body and "value" in body:
        return "letter"
    return "unknown"


class DeadLetterSink(Protocol):
    def send(self, letters: list[dict[str, Any]]) -> None:
        """Durably store all letters or raise DeadLetterError (the batch is then retried)."""


def queue_url_problem(url: str) -> str | None:
    """https:// (SQS), or http:// to a loopback SQS-compatible server (the local pipeline)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname:
        try:
            loopback = parts.hostname == "localhost" or ipaddress.ip_address(
                parts.hostname).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return None
    return (f"{QUEUE_URL_ENV} must be an https:// SQS queue URL (or http:// on loopback for a "
            f"local server), got {url!r}")


def sink_from_env(env: Mapping[str, str] = os.environ) -> DeadLetterSink:
    """DEAD_LETTER_QUEUE_URL + DEAD_LETTER_BUCKET (AWS) or DEAD_LETTER_SQLITE_PATH (local)."""
    queue_url = env.get(QUEUE_URL_ENV, "").strip()
    bucket = env.get(BUCKET_ENV, "").strip()
    sqlite_path = env.get(SQLITE_PATH_ENV, "").strip()
    if queue_url and sqlite_path:
        raise ConfigError([f"set only one of {QUEUE_URL_ENV} and {SQLITE_PATH_ENV}, not both"])
    if queue_url:
        problems = []
        if problem := queue_url_problem(queue_url):
            problems.append(problem)
        if not bucket:
            problems.append(f"{BUCKET_ENV} is required with {QUEUE_URL_ENV}: dead letters larger "
                            "than one SQS message are stored there")
        elif not _BUCKET_NAME.match(bucket):
            problems.append(f"{BUCKET_ENV} must be an S3 bucket name, got {bucket!r}")
        if problems:
            raise ConfigError(problems)
        from event_consumer.sqs_sink import SqsDeadLetterSink

        return SqsDeadLetterSink(queue_url, bucket)
    if sqlite_path:
        parent = os.path.dirname(os.path.abspath(sqlite_path))
        if not os.path.isdir(parent):
            raise ConfigError([f"{SQLITE_PATH_ENV}: directory {parent!r} does not exist"])
        from event_consumer.sqlite_sink import SqliteDeadLetterSink

        return SqliteDeadLetterSink(sqlite_path)
    raise ConfigError(
        [f"no dead-letter sink: set {QUEUE_URL_ENV} and {BUCKET_ENV} (AWS) "
         f"or {SQLITE_PATH_ENV} (local)"]
    )
