"""The durable ledger of replayed records: what makes replay exactly-once per record.

One row per record id (the content address `dead_letter_format.record_id`, shared by the
handler's letters and the records re-read for the mapping's `KafkaBatchInfo`):
- `pending` is written (committed) BEFORE a record is handed to the producer;
- `done` is written once Kafka acknowledged it (acks=all).
So a record is never published twice: `done` is skipped on every later run, and `pending` means
"the process stopped, or the broker's answer was lost, after the record may have been written":
it is reported as in doubt and not published again unless the operator says so
(`--retry-in-doubt`, after checking the topic). A record whose send was refused before anything
left the process has its `pending` mark removed.

A ledger that cannot be written is found before anything is read (a write is tried and rolled
back at open) and, should it fail later, stops the run with `LedgerError` before the next
publish: a record is never published without its `pending` mark.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

PENDING = "pending"
DONE = "done"


class LedgerError(Exception):
    """The ledger cannot be read or written: one line naming the file and SQLite's reason."""


class Ledger:
    SCHEMA = """
        CREATE TABLE IF NOT EXISTS replay_ledger (
            record_id TEXT PRIMARY KEY,
            state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
            target TEXT,
            updated_at TEXT NOT NULL
        )
    """

    def __init__(self, path: str, timeout_s: float = 10.0) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        with self._failing_as("opened for writing"):
            self._conn = sqlite3.connect(path, timeout=timeout_s)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")  # a mark must survive a crash
            with self._conn:
                self._conn.execute(self.SCHEMA)
            self._try_a_write()

    def _try_a_write(self) -> None:
        # With the schema already there nothing above had to write, and a read-only or immutable
        # file opens fine: a write, rolled back, finds it before any message is taken.
        try:
            self._conn.execute("DELETE FROM replay_ledger WHERE 0")
        finally:
            self._conn.rollback()

    @contextmanager
    def _failing_as(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as err:
            raise LedgerError(f"ledger {self.path} cannot be {what}: {err}") from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def states(self, record_ids: Iterable[str]) -> dict[str, str]:
        ids = list(set(record_ids))
        out: dict[str, str] = {}
        with self._failing_as("read"):
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))  # placeholders only: no data in the SQL text
                sql = f"SELECT record_id, state FROM replay_ledger WHERE record_id IN ({marks})"  # noqa: S608
                out.update(self._conn.execute(sql, chunk).fetchall())
        return out

    def _set(self, record_ids: Iterable[str], state: str, target: str | None = None) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._failing_as("written"), self._conn:
            self._conn.executemany(
                "INSERT INTO replay_ledger (record_id, state, target, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (record_id) DO UPDATE SET"
                " state = excluded.state, target = COALESCE(excluded.target, target),"
                " updated_at = excluded.updated_at",
                [(rid, state, target, now) for rid in record_ids])

    def mark_pending(self, record_ids: Iterable[str], target: str | None = None) -> None:
        self._set(record_ids, PENDING, target)

    def mark_done(self, record_ids: Iterable[str]) -> None:
        self._set(record_ids, DONE)

    def clear_pending(self, record_ids: Iterable[str]) -> None:
        with self._failing_as("written"), self._conn:
            self._conn.executemany(
                "DELETE FROM replay_ledger WHERE record_id = ? AND state = 'pending'",
                [(rid,) for rid in record_ids])
