"""Where the handler's dead letters go: the SQS queue and S3 bucket the environment names.

In AWS they are the stack's dead-letter queue and bucket; locally the same code reaches the moto
SQS/S3 server (`python -m local.aws`) through AWS_ENDPOINT_URL_SQS / _S3: one store, as deployed.

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

# S3 bucket naming rules (S3 user guide, "General purpose bucket naming rules").
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")


class DeadLetterSink(Protocol):
    def send(self, letters: list[dict[str, Any]]) -> None:
        """Durably store all letters or raise DeadLetterError (the batch is then retried)."""


def sink_from_env(env: Mapping[str, str] = os.environ) -> DeadLetterSink:
    """DEAD_LETTER_QUEUE_URL + DEAD_LETTER_BUCKET, or ConfigError naming each problem."""
    queue_url = env.get(QUEUE_URL_ENV, "").strip()
    bucket = env.get(BUCKET_ENV, "").strip()
    if not queue_url:
        raise ConfigError([f"no dead-letter sink: set {QUEUE_URL_ENV} and {BUCKET_ENV} (locally: "
                           "a queue and bucket on the SQS/S3 server `python -m local.aws`)"])
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
