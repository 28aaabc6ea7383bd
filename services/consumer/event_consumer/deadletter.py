"""Dead letters: one JSON format, two sinks (SQS in AWS, SQLite locally), chosen by environment.

Format (SQS message body and SQLite row body alike):
  {"reason", "topic", "partition", "offset", "timestamp", "key", "value", "headers",
   "dead_lettered_at"}
`key`/`value` are base64 exactly as received and `headers` the received list of {name: [bytes]},
so `replay` can re-publish the original bytes even when they never decoded.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from event_consumer.errors import ConfigError, DeadLetterError
from event_consumer.records import KafkaRecord

QUEUE_URL_ENV = "DEAD_LETTER_QUEUE_URL"
SQLITE_PATH_ENV = "DEAD_LETTER_SQLITE_PATH"

# SQS caps a message and a whole SendMessageBatch request at 256 KiB (the conservative,
# long-standing limit); a batch holds at most 10 entries.
SQS_MAX_BYTES = 262_144
SQS_MAX_ENTRIES = 10


def dead_letter(record: KafkaRecord, reason: str, now: datetime | None = None) -> dict[str, Any]:
    """The dead-letter document for one record."""
    now = now or datetime.now(UTC)
    return {
        "reason": reason,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "key": record.key,
        "value": record.value,
        "headers": record.headers,
        "dead_lettered_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


class DeadLetterSink(Protocol):
    def send(self, letters: list[dict[str, Any]]) -> None:
        """Durably store all letters or raise DeadLetterError (the batch is then retried)."""


class SqliteDeadLetterSink:
    """A local dead-letter queue in a real SQLite file; re-delivered records are stored once."""

    SCHEMA = """
        CREATE TABLE IF NOT EXISTS dead_letters (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            topic TEXT NOT NULL,
            partition INTEGER NOT NULL,
            "offset" INTEGER NOT NULL,
            reason TEXT NOT NULL,
            body TEXT NOT NULL,
            UNIQUE (topic, partition, "offset")
        )
    """

    def __init__(self, path: str, timeout_s: float = 10.0) -> None:
        self.path = path
        self.timeout_s = timeout_s
        with self._connect() as conn:
            conn.execute(self.SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # timeout: how long to wait for another writer's lock (the replay tool may hold one).
        return sqlite3.connect(self.path, timeout=self.timeout_s)

    def send(self, letters: list[dict[str, Any]]) -> None:
        if not letters:
            return
        rows = [
            (d["topic"], d["partition"], d["offset"], d["reason"], json.dumps(d)) for d in letters
        ]
        try:
            conn = self._connect()
            try:
                with conn:  # one transaction: all letters or none
                    conn.executemany(
                        "INSERT OR IGNORE INTO dead_letters"
                        ' (topic, partition, "offset", reason, body) VALUES (?, ?, ?, ?, ?)',
                        rows,
                    )
            finally:
                conn.close()
        except sqlite3.Error as err:
            raise DeadLetterError(f"SQLite dead-letter store {self.path}: {err}") from err

    def read(self, limit: int | None = None) -> list[tuple[int, dict[str, Any]]]:
        """(row id, letter) oldest first."""
        conn = self._connect()
        try:
            sql = "SELECT id, body FROM dead_letters ORDER BY id"
            params: tuple[int, ...] = ()
            if limit is not None:
                sql += " LIMIT ?"
                params = (limit,)
            return [(row_id, json.loads(body)) for row_id, body in conn.execute(sql, params)]
        finally:
            conn.close()

    def delete(self, row_ids: Iterable[int]) -> None:
        conn = self._connect()
        try:
            with conn:
                conn.executemany("DELETE FROM dead_letters WHERE id = ?", [(i,) for i in row_ids])
        finally:
            conn.close()


class SqsDeadLetterSink:
    """The AWS dead-letter queue. boto3 is imported here only, to keep cold starts small."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        if client is None:
            import boto3
            from botocore.config import Config

            # Explicit timeouts and bounded retries: a slow SQS must fail the invocation (so the
            # batch is retried), not hang it until the Lambda timeout.
            client = boto3.client(
                "sqs",
                config=Config(
                    connect_timeout=2,
                    read_timeout=5,
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )
        self.client = client

    def send(self, letters: list[dict[str, Any]]) -> None:
        for chunk in _sqs_chunks([json.dumps(d) for d in letters]):
            entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
            try:
                response = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as err:  # noqa: BLE001 - any client error means "not stored"
                raise DeadLetterError(f"SQS SendMessageBatch failed: {err}") from err
            failed = response.get("Failed") or []
            if failed:
                detail = ", ".join(f"{f.get('Code')}: {f.get('Message')}" for f in failed)
                raise DeadLetterError(f"SQS rejected {len(failed)} dead letters: {detail}")


def _sqs_chunks(bodies: list[str]) -> Iterable[list[str]]:
    chunk: list[str] = []
    size = 0
    for body in bodies:
        n = len(body.encode("utf-8"))
        if n > SQS_MAX_BYTES:
            raise DeadLetterError(
                f"dead letter of {n} bytes exceeds the SQS limit of {SQS_MAX_BYTES}; the batch "
                "fails and the event source mapping's on-failure destination records it"
            )
        if chunk and (len(chunk) == SQS_MAX_ENTRIES or size + n > SQS_MAX_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(body)
        size += n
    if chunk:
        yield chunk


def sink_from_env(env: Mapping[str, str] = os.environ) -> DeadLetterSink:
    """Exactly one of DEAD_LETTER_QUEUE_URL / DEAD_LETTER_SQLITE_PATH selects the sink."""
    queue_url = env.get(QUEUE_URL_ENV, "").strip()
    sqlite_path = env.get(SQLITE_PATH_ENV, "").strip()
    if queue_url and sqlite_path:
        raise ConfigError([f"set only one of {QUEUE_URL_ENV} and {SQLITE_PATH_ENV}, not both"])
    if queue_url:
        if not queue_url.startswith("https://"):
            raise ConfigError(
                [f"{QUEUE_URL_ENV} must be an https:// SQS queue URL, got {queue_url!r}"]
            )
        return SqsDeadLetterSink(queue_url)
    if sqlite_path:
        parent = os.path.dirname(os.path.abspath(sqlite_path))
        if not os.path.isdir(parent):
            raise ConfigError([f"{SQLITE_PATH_ENV}: directory {parent!r} does not exist"])
        return SqliteDeadLetterSink(sqlite_path)
    raise ConfigError(
        [f"no dead-letter sink: set {QUEUE_URL_ENV} (AWS) or {SQLITE_PATH_ENV} (local)"]
    )
