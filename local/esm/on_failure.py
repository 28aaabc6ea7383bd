"""Where the local event source mapping puts AWS's on-failure record for a batch it gave up on.

`sqs:QUEUE_URL` - the dead-letter queue, as the deployed mapping is configured (its on-failure
destination is the queue the handler's dead letters go to: a mixed queue that `event_replay`
reads). Locally that queue is on the SQS/S3 server (`python -m local.aws`), which boto3 reaches
through `AWS_ENDPOINT_URL_SQS`: the one local dead-letter store, the one AWS has.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

SCHEME = "sqs"


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


def destination_problem(uri: str) -> str | None:
    """A clear message if `uri` cannot name a destination, else None."""
    from dead_letter_format import queue_url_problem

    scheme, sep, target = uri.partition(":")
    if not sep or scheme != SCHEME or not target:
        return ("on-failure destination must be sqs:QUEUE_URL (the dead-letter queue; locally on "
                f"the SQS/S3 server `python -m local.aws`), got {uri!r}")
    problem = queue_url_problem(target)
    return problem and problem.replace("DEAD_LETTER_QUEUE_URL", "the on-failure queue")


def open_destination(uri: str) -> OnFailureDestination:
    problem = destination_problem(uri)
    if problem:
        raise ValueError(problem)
    return SqsDestination(uri.partition(":")[2])
