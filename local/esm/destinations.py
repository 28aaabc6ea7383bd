"""Where the local event source mapping puts AWS's on-failure record for a batch it gave up on.

Two real destinations, chosen by a URI: `jsonl:PATH` (one JSON document per line, appended and
fsynced) or `sqlite:PATH` (table `on_failure_records`). Both survive the process, like the SQS
queue they stand in for.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from typing import Any, Protocol


class OnFailureDestination(Protocol):
    uri: str

    def write(self, record: dict[str, Any]) -> None: ...

    def read_all(self) -> list[dict[str, Any]]: ...


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
    scheme, sep, path = uri.partition(":")
    if not sep or scheme not in ("jsonl", "sqlite") or not path:
        return f"on-failure destination must be jsonl:PATH or sqlite:PATH, got {uri!r}"
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        return f"on-failure destination directory {parent!r} does not exist"
    return None


def open_destination(uri: str) -> OnFailureDestination:
    problem = destination_problem(uri)
    if problem:
        raise ValueError(problem)
    scheme, _, path = uri.partition(":")
    return JsonlDestination(path) if scheme == "jsonl" else SqliteDestination(path)
