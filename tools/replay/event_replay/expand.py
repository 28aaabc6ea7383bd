"""Turn one stored message into the Kafka records to re-publish.

Three kinds share the dead-letter queue (`event_consumer.deadletter.letter_kind`):
- a letter: the handler's dead letter, payload inside -> its key, value and headers, byte for byte;
- a pointer: a letter too large for SQS -> fetched from S3 (size and sha256 checked), then as above;
- batch-info: the event source mapping's on-failure record, metadata only (`KafkaBatchInfo`; Lambda
  guide, "Capturing discarded batches for Amazon MSK and self-managed Apache Kafka event sources",
  https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html: an SQS destination gets
  topic, partition and first/last offsets, not the records) -> those offsets re-read from Kafka
  while the topic still holds them.
Whatever cannot be rebuilt completely is reported and the message kept: a null value (never
published: it would be a tombstone), bytes that do not decode, offsets lost to retention.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from event_consumer.deadletter import letter_kind
from event_consumer.records import record_id

from event_replay.sources import StoredMessage


@dataclass(frozen=True)
class Item:
    """One Kafka record to re-publish."""

    record_id: str
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    origin: str  # "<topic>-<partition>@<offset>" for the report


def _unb64(text: Any) -> bytes | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError(f"expected base64 text, got {type(text).__name__}")
    return base64.b64decode(text, validate=True)


def from_letter(letter: dict[str, Any], message: StoredMessage) -> list[Item]:
    origin = f"{letter.get('topic')}-{letter.get('partition')}@{letter.get('offset')}"
    if letter.get("value") is None:
        message.kept.append(f"{origin}: null value (a tombstone is never re-published)")
        return []
    if not isinstance(letter.get("topic"), str):
        message.kept.append(f"{origin}: no topic to re-publish to")
        return []
    try:
        key, value = _unb64(letter.get("key")), _unb64(letter["value"])
        headers = [(name, bytes(v)) for entry in letter.get("headers") or []
                   for name, v in entry.items()]
    except (ValueError, TypeError, AttributeError) as err:
        message.kept.append(f"{origin}: cannot rebuild its bytes: {err}")
        return []
    rid = letter.get("letter_id") or record_id(
        letter.get("topic"), letter.get("partition"), letter.get("offset"),
        letter.get("timestamp"), letter.get("key"), letter.get("value"), letter.get("headers"))
    return [Item(rid, letter["topic"], key, value, headers, origin)]


def fetch_pointer(pointer: dict[str, Any], s3: Any, message: StoredMessage) -> dict | None:
    where = pointer["s3"]
    try:
        data = s3.get_object(Bucket=where["bucket"], Key=where["key"])["Body"].read()
    except Exception as err:  # noqa: BLE001 - kept and reported, whatever S3 said
        message.kept.append(f"s3://{where.get('bucket')}/{where.get('key')}: {err}")
        return None
    if len(data) != where.get("bytes") or hashlib.sha256(data).hexdigest() != where.get("sha256"):
        message.kept.append(f"s3://{where['bucket']}/{where['key']}: size or sha256 differ from "
                            "the pointer")
        return None
    return json.loads(data)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def from_kafka_record(rec: Any) -> Item | None:
    """An Item from a kafka-python ConsumerRecord, with the id the handler's letter would have."""
    if rec.value is None:
        return None
    headers = [{name: list(value or b"")} for name, value in rec.headers or []]
    rid = record_id(rec.topic, rec.partition, rec.offset, rec.timestamp, _b64(rec.key),
                    _b64(rec.value), headers)
    return Item(rid, rec.topic, rec.key, rec.value, [(n, v or b"") for n, v in rec.headers or []],
                f"{rec.topic}-{rec.partition}@{rec.offset}")


def batch_ranges(info: dict[str, Any]) -> list[tuple[str, int, int, int]]:
    """(topic, partition, first, last) per "<topic>-<partition>" of recordsInfo."""
    ranges = []
    for name, entry in (info.get("recordsInfo") or {}).items():
        topic, _, partition = name.rpartition("-")  # topic names may contain "-"
        ranges.append((topic, int(partition), int(entry["firstRecordOffset"]),
                       int(entry["lastRecordOffset"])))
    return ranges


def from_batch_info(body: dict[str, Any], reader: Any, message: StoredMessage) -> list[Item]:
    items: list[Item] = []
    try:
        ranges = batch_ranges(body["KafkaBatchInfo"])
    except (KeyError, ValueError, TypeError, AttributeError) as err:
        message.kept.append(f"KafkaBatchInfo not understood: {err!r}")
        return []
    for topic, partition, first, last in ranges:
        try:
            records, missing = reader.read(topic, partition, first, last)
        except Exception as err:  # noqa: BLE001 - kept and reported; a later run tries again
            message.kept.append(f"{topic}-{partition} {first}..{last}: cannot re-read: {err}")
            continue
        if missing:
            message.kept.append(f"{topic}-{partition}: {missing}")
        for rec in records:
            item = from_kafka_record(rec)
            if item is None:
                message.kept.append(f"{topic}-{partition}@{rec.offset}: null value (a tombstone "
                                    "is never re-published)")
            else:
                items.append(item)
    return items


def expand(message: StoredMessage, s3: Any, reader: Any) -> list[Item]:
    """The records this message stands for; reasons to keep it are added to `message.kept`."""
    body = message.body
    kind = letter_kind(body)
    if kind == "letter":
        return from_letter(body, message)
    if kind == "pointer":
        letter = fetch_pointer(body, s3(), message)
        return [] if letter is None else from_letter(letter, message)
    if kind == "batch-info":
        return from_batch_info(body, reader(), message)
    message.kept.append("not a dead letter this tool knows (not JSON, or an unknown shape)")
    return []
