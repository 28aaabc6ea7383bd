"""Where the handler's dead letters go: SQS + S3 in AWS, SQLite locally, chosen by env.

The letters themselves (their shape, ids and pointers) are the shared `dead_letter_format` lib:
the replay tool reads what this writes without importing the consumer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Protocol

from dead_letter_format import QUEUE_URL_ENV, queue_url_problem

from event_consumer.errors import ConfigError

BUCKET_ENV = "DEAD_LETTER_BUCKET"
SQLITE_PATH_ENV = "DEAD_LETTER_SQLITE_PATH"

# S3 bucket naming rules (S3 user guide, "General purpose bucket naming rules").
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")


class DeadLetterSink(Protocol):
    def send(self, letters: list[dict[str, Any]]) -> None:
        """Durably store all letters or raise DeadLetterError (the batch is then retried)."""


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
