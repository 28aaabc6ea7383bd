"""Where dead letters are read from: the SQS dead-letter queue, in AWS or on the local SQS/S3 server
(`python -m local.aws`). It hands out `StoredMessage`s and deletes only what it is told to."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from dead_letter_format import queue_url_problem

SQS_WAIT_S = 1  # long-poll briefly; a receive with nothing new ends the replay
# A message being replayed stays hidden while Kafka is re-read and acknowledges: long enough for
# a full batch of KafkaBatchInfo ranges (SQS allows up to 12 hours).
SQS_VISIBILITY_S = 600


class ReplayError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class StoredMessage:
    """One stored dead letter or on-failure record, as read from its source."""

    handle: Any  # the newest SQS receipt handle
    message_id: str
    body: Any  # the parsed JSON document, or None when the body is not JSON
    raw: str
    kept: list[str] = field(default_factory=list)  # why it must stay in the source


class LetterSource(Protocol):
    uri: str

    def batches(self, limit: int | None) -> Iterator[list[StoredMessage]]: ...

    def delete(self, messages: list[StoredMessage]) -> list[str]:
        """Delete these; returns one problem per message that could not be deleted."""

    def release(self, messages: list[StoredMessage]) -> None:
        """Make kept messages available again (for the next run), once this run is over."""


def _parse(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


# The region in an AWS queue URL's host: sqs[-fips].<region>.amazonaws.com[.cn] and the dual-stack
# sqs[-fips].<region>.api.aws (AWS General Reference, "Amazon Simple Queue Service endpoints and
# quotas", https://docs.aws.amazon.com/general/latest/gr/sqs-service.html), an interface VPC
# endpoint's vpce-....sqs.<region>.vpce.amazonaws.com, and the legacy <region>.queue.amazonaws.com
# that older botocore handed out (boto/botocore#1418; queue.amazonaws.com alone is us-east-1).
_REGION = r"(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)"
_AWS_SQS_HOSTS = (
    re.compile(rf"(?:[a-z0-9-]+\.)?sqs(?:-fips)?\.{_REGION}\.(?:vpce\.)?amazonaws\.com(?:\.cn)?\Z"),
    re.compile(rf"sqs(?:-fips)?\.{_REGION}\.api\.aws\Z"),
    re.compile(rf"{_REGION}\.queue\.amazonaws\.com(?:\.cn)?\Z"),
)


def queue_endpoint(queue_url: str) -> tuple[str, str | None]:
    """The endpoint (scheme and host of the URL) and, for an AWS host, the region to sign for;
    None leaves the region to botocore's configuration (a local SQS server on loopback)."""
    parts = urlsplit(queue_url)
    endpoint = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    host = (parts.hostname or "").lower()
    if host == "queue.amazonaws.com":
        return endpoint, "us-east-1"
    for pattern in _AWS_SQS_HOSTS:
        if match := pattern.match(host):
            return endpoint, match["region"]
    return endpoint, None


def sqs_client_for(queue_url: str) -> Any:
    """A client that sends every request to the queue's own host.

    botocore does not route by QueueUrl: requests go to the client's endpoint, from
    `endpoint_url`, else AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL / the config file, else the
    configured region's SQS endpoint (boto/boto3#677; AWS SDKs and Tools Reference Guide,
    "Service-specific endpoints", https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html:
    an endpoint passed to the client constructor always takes effect). So the URL's scheme and host
    are passed as `endpoint_url`, and an AWS URL's region as `region_name` (SigV4 signs for it).
    A local server (`local.aws`) hands out URLs on its own host, so nothing local changes.
    """
    import boto3
    from botocore.config import Config

    endpoint, region = queue_endpoint(queue_url)
    return boto3.client("sqs", endpoint_url=endpoint, region_name=region, config=Config(
        connect_timeout=2, read_timeout=10, retries={"max_attempts": 3}))


class SqsSource:
    """The dead-letter queue: the handler's letters and pointers, and the mapping's on-failure
    records, mixed. Reached at the host of its URL (`sqs_client_for`)."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.uri = f"sqs:{queue_url}"
        self.queue_url = queue_url
        self.client = client if client is not None else sqs_client_for(queue_url)
        self._seen: set[str] = set()

    def batches(self, limit: int | None) -> Iterator[list[StoredMessage]]:
        count = 0
        while limit is None or count < limit:
            want = 10 if limit is None else min(10, limit - count)
            response = self.client.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=want, WaitTimeSeconds=SQS_WAIT_S,
                VisibilityTimeout=SQS_VISIBILITY_S)
            # A message kept earlier in this run reappears once its visibility timeout passes:
            # it was reported already, so it neither counts nor keeps the run going.
            fresh = [m for m in response.get("Messages") or [] if m["MessageId"] not in self._seen]
            if not fresh:
                return
            self._seen.update(m["MessageId"] for m in fresh)
            count += len(fresh)
            yield [StoredMessage(m["ReceiptHandle"], m["MessageId"], _parse(m["Body"]), m["Body"])
                   for m in fresh]

    def delete(self, messages: list[StoredMessage]) -> list[str]:
        problems = []
        for i in range(0, len(messages), 10):
            chunk = messages[i : i + 10]
            response = self.client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m.handle} for n, m in enumerate(chunk)])
            for failure in response.get("Failed") or []:
                message = chunk[int(failure["Id"])]
                problems.append(f"{message.message_id}: {failure.get('Code')} "
                                f"{failure.get('Message')}")
        return problems

    def release(self, messages: list[StoredMessage]) -> None:
        # Hidden during the run so each is read once; visible again for the next run.
        for i in range(0, len(messages), 10):
            self.client.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m.handle, "VisibilityTimeout": 0}
                for n, m in enumerate(messages[i : i + 10])])


def open_source(spec: str) -> LetterSource:
    scheme, sep, target = spec.partition(":")
    if sep and scheme == "sqs" and target and not queue_url_problem(target):
        return SqsSource(target)
    raise ReplayError([f"--from must be sqs:https://QUEUE_URL (or sqs:http:// on loopback for the "
                       f"local SQS server), got {spec!r}"])
