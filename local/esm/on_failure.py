"""Where the local event source mapping puts AWS's on-failure record for a batch it gave up on.

Chosen by a URI:
- `sqs:QUEUE_URL` - the dead-letter queue, as the deployed mapping is configured (its on-failure
  destination is the queue the handler's dead letters go to: a mixed queue that `event_replay`
  reads). boto3 reaches a local SQS-compatible server through `AWS_ENDPOINT_URL_SQS`.
- `jsonl:PATH` (one JSON document per line, appended and fsynced) or `sqlite:PATH` (table
  `on_failure_records`): files that survive the process, for runs without an SQS server.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from typing import Any, Protocol

SCHEMES = ("sqs", "jsonl", "sqlite")


class OnFailureDestination(Protocol):
    uri: str

    def write(self, record: dict[str, Any]) -> None: ...

    def read_all(self) -> list[dict[str, Any]]: ...


class SqsDestination:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self.uri = f"sqs:{queue_url}"
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client("sqs", config=Config(
                connect_timeout=2, read_timeout=10, retries={"max_attempts": 3}))
        self.client = client

    def write(self, record: dict[str, Any]) -> None:
        # Raises on failure: the batch's offsets are committed only after this returned.
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(record))

    def read_all(self) -> list[dict[str, Any]]:
        """The on-failure records now in the queue (peeked: they stay for `event_replay`)."""
        found: dict[str, dict[str, Any]] = {}
        for _ in range(20):
            got = self.client.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                              VisibilityTimeout=0).get("Messages") or []
            for message in got:
                body = json.loads(message["Body"])
                if isinstance(body, dict) and "KafkaBatchInfo" in body:
                    found[message["MessageId"]] = body
            if not got:
                break
        return list(found.values())


class JsonlDestination:
    def __init__(self, path: str) -> None:
        self.path = path
        self.uri = f"jsonl:{path}"
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())  # the batch's offsets are committed right after this

    def read_all(self) -> list[dict[str, Any]]:
        if not os.path.exists(self.path):
            return []
        with open(self.path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]


class SqliteDestination:
    def __init__(self, path: str, timeout_s: float = 10.0) -> None:
        self.path = path
        self.uri = f"sqlite:{path}"
        self.timeout_s = timeout_s
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS on_failure_records ("
                " id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=self.timeout_s)

    def write(self, record: dict[str, Any]) -> None:
        conn = self._connect()
        try:
            with conn:
                conn.execute(
                    "INSERT INTO on_failure_records (body) VALUES (?)", (json.dumps(record),)
                )
        finally:
            conn.close()

    def read_all(self) -> list[dict[str, Any]]:
        conn = self._connect()
        try:
            rows = conn.execute("SELECT body FROM on_failure_records ORDER BY id").fetchall()
        finally:
            conn.close()
        return [json.loads(body) for (body,) in rows]


def destination_problem(uri: str) -> str | None:
    """A clear message if `uri` cannot name a destination, else None."""
    scheme, sep, target = uri.partition(":")
    if not sep or scheme not in SCHEMES or not target:
        return ("on-failure destination must be sqs:QUEUE_URL, jsonl:PATH or sqlite:PATH, "
                f"got {uri!r}")
    if scheme == "sqs":
        from dead_letter_format import queue_url_problem

        problem = queue_url_problem(target)
        return problem and problem.replace("DEAD_LETTER_QUEUE_URL", "the on-failure queue")
    parent = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(parent):
        return f"on-failure destination directory {parent!r} does not exist"
    return None


def open_destination(uri: str) -> OnFailureDestination:
    problem = destination_problem(uri)
    if problem:
        raise ValueError(problem)
    scheme, _, target = uri.partition(":")
    if scheme == "sqs":
        return SqsDestination(target)
    return JsonlDestination(target) if scheme == "jsonl" else SqliteDestination(target)
