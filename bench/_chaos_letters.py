"""The chaos run's reader of the dead-letter queue: receives every message (the handler's letters,
the pointers to letters in S3, the mapping's on-failure records), keeps it with the time it
arrived, then deletes it, as an operator's replay would.

Why read them out as they come: moto keeps its queue and bucket in memory, so the run's "SQS/S3
server down" fault (a SIGKILL and a restart) would empty them, which AWS's SQS never does ("Amazon
SQS redundantly stores the message in multiple availability zones (AZs) before acknowledging
it", SQS developer guide, "Amazon SQS standard queues",
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues.html).
The fault therefore first reads the queue until it is empty while holding the reader
(`held_empty`), so what is lost with moto's memory had already been counted.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dead_letter_format import letter_kind

from local.aws.server import FAKE_CREDENTIALS, REGION

POLL_PAUSE_S = 0.5


@dataclass(frozen=True)
class Letter:
    kind: str  # "letter" (a pointer's letter is read back from S3), "batch-info" or "unknown"
    body: dict[str, Any]
    received_at: float  # perf_counter()


def _client(service: str, endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    # Short timeouts, few retries: while the server is down this loop just tries again later.
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                        config=Config(connect_timeout=1, read_timeout=5,
                                      retries={"max_attempts": 1}))


class LetterCollector:
    def __init__(self, endpoint: str, queue_url: str) -> None:
        self.queue_url = queue_url
        self._sqs = _client("sqs", endpoint)
        self._s3 = _client("s3", endpoint)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.letters: list[Letter] = []
        self.read_errors = 0
        self._thread = threading.Thread(target=self._run, name="dead-letter-reader", daemon=True)

    def start(self) -> LetterCollector:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                try:
                    got = self._receive_once()
                except Exception:  # noqa: BLE001 - the server is down: try again shortly
                    self.read_errors += 1
                    got = 0
            if not got:
                self._stop.wait(POLL_PAUSE_S)

    def _receive_once(self) -> int:
        messages = self._sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
            VisibilityTimeout=30).get("Messages", [])
        for message in messages:
            body = json.loads(message["Body"])
            kind = letter_kind(body)
            if kind == "pointer":
                s3 = body["s3"]
                body = json.loads(self._s3.get_object(Bucket=s3["bucket"],
                                                      Key=s3["key"])["Body"].read())
                kind = "letter"
            # Kept before it is deleted: a failed delete only brings it back (a duplicate).
            self.letters.append(Letter(kind, body, time.perf_counter()))
            self._sqs.delete_message(QueueUrl=self.queue_url,
                                     ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def read_until_empty(self, timeout_s: float = 30.0) -> None:
        """Everything in the queue now, read (raises if the server does not answer)."""
        with self._lock:
            self._read_until_empty_locked(timeout_s)

    @contextlib.contextmanager
    def held_empty(self, timeout_s: float = 30.0) -> Iterator[None]:
        """Read the queue until empty and keep the reader paused inside the block (where the
        server is killed), so nothing read is lost with moto's memory. (A letter written between
        the last empty read and the kill would be lost with it: the run then reports it LOST.)"""
        with self._lock:
            self._read_until_empty_locked(timeout_s)
            yield

    def _read_until_empty_locked(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if not self._receive_once():
                    return
            except Exception:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)
