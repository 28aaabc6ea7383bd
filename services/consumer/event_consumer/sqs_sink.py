"""The AWS dead-letter sink: letters to the SQS queue, oversized ones to S3 behind a pointer.

The queue takes messages of up to 256 KiB: SQS's default MaximumMessageSize, which the program
sets explicitly on the queue (components/consumer.py, DEAD_LETTER_MAX_MESSAGE_BYTES), and this
sink keeps each SendMessageBatch request under it too; a batch holds at most 10 entries. A letter
above that is written whole to the dead-letter bucket first and the queue gets a small pointer
to it, so a large poison record never fails its batch and never loses bytes.

boto3 is imported here only, when this sink is built, to keep the handler's cold import small.
Endpoints come from botocore's usual resolution, so `AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL_S3`
point this same code at a local SQS/S3-compatible server (`local.aws`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from dead_letter_format import pointer, s3_key

from event_consumer.errors import DeadLetterError

SQS_MAX_BYTES = 262_144
SQS_MAX_ENTRIES = 10
# SendMessageBatch calls in flight at once: 1,000 poison records are 100 calls, ~10 ms each in
# a region; one after the other they would cost a second of the invocation. boto3 clients are
# thread-safe (boto3 guide, "Multithreading or multiprocessing with clients").
PARALLEL_REQUESTS = 8


def _client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Explicit timeouts and bounded retries: a slow SQS/S3 must fail the invocation (so the
    # batch is retried), not hang it until the Lambda timeout.
    return boto3.client(service, config=Config(
        connect_timeout=2, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}))


class SqsDeadLetterSink:
    def __init__(self, queue_url: str, bucket: str, sqs: Any = None, s3: Any = None) -> None:
        self.queue_url = queue_url
        self.bucket = bucket
        self.sqs = sqs or _client("sqs")
        self._s3 = s3

    @property
    def s3(self) -> Any:
        if self._s3 is None:  # most invocations never need it
            self._s3 = _client("s3")
        return self._s3

    def send(self, letters: list[dict[str, Any]]) -> None:
        """Every letter stored, or DeadLetterError (then some may be stored twice on the retry:
        replay publishes each letter id once)."""
        if not letters:
            return
        chunks = list(_sqs_chunks([self._message_body(letter) for letter in letters]))
        if len(chunks) == 1:
            self._send_chunk(chunks[0])
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(PARALLEL_REQUESTS, len(chunks))) as pool:
            for future in [pool.submit(self._send_chunk, chunk) for chunk in chunks]:
                future.result()  # the first failure raises, after every request has finished

    def _send_chunk(self, chunk: list[str]) -> None:
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
        try:
            response = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except Exception as err:  # noqa: BLE001 - any client error means "not stored"
            raise DeadLetterError(f"SQS SendMessageBatch failed: {err}") from err
        failed = response.get("Failed") or []
        if failed:
            detail = ", ".join(f"{f.get('Code')}: {f.get('Message')}" for f in failed)
            raise DeadLetterError(f"SQS rejected {len(failed)} dead letters: {detail}")

    def _message_body(self, letter: dict[str, Any]) -> str:
        body = json.dumps(letter)
        if len(body.encode("utf-8")) <= SQS_MAX_BYTES:
            return body
        data = body.encode("utf-8")
        key = s3_key(letter["letter_id"])
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=data,
                               ContentType="application/json")
        except Exception as err:  # noqa: BLE001 - not stored: the batch must be retried
            raise DeadLetterError(f"S3 PutObject s3://{self.bucket}/{key} failed: {err}") from err
        return json.dumps(pointer(letter, self.bucket, key, data))


def _sqs_chunks(bodies: list[str]) -> Iterable[list[str]]:
    """At most 10 bodies and 256 KiB per SendMessageBatch request."""
    chunk: list[str] = []
    size = 0
    for body in bodies:
        n = len(body.encode("utf-8"))
        if chunk and (len(chunk) == SQS_MAX_ENTRIES or size + n > SQS_MAX_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(body)
        size += n
    if chunk:
        yield chunk
