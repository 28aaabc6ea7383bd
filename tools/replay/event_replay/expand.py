"""Turn one stored message into the Kafka records to re-publish.

Three kinds share the dead-letter queue (`dead_letter_format.letter_kind`):
- a letter: the handler's dead letter, payload inside -> its key, value and headers, byte for byte;
- a pointer: a letter too large for SQS -> fetched from S3 (size and sha256 checked), then as above;
- batch-info: the event source mapping's on-failure record, metadata only (`KafkaBatchInfo`; Lambda
  guide, "Capturing discarded batches for Amazon MSK and self-managed Apache Kafka event sources",
  https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html: an SQS destination gets
  topic, partition and first/last offsets, not the records) -> those offsets re-read from Kafka
  while the topic still holds them.
Anyone who may send to the queue can write any of these, so nothing in a message is trusted: a
record's id is recomputed from its bytes (the handler's own `dead_letter`), never read from the
message, and whatever cannot be rebuilt completely is reported and the message kept: a null value
(never published: it would be a tombstone), bytes that do not decode, a claimed id its bytes do not
give, an S3 object that is not a letter, offsets that are not a range or were lost to retention.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dead_letter_format import MskRecord, dead_letter, decode_headers, letter_kind, record_id
from event_contract.kafka_names import topic_name_problem

from event_replay.sources import StoredMessage

# Every letter was part of one invocation, and Lambda's invocation payload is at most 6 MB: an S3
# object much larger than that is not a letter, and is not read into memory.
MAX_LETTER_BYTES = 16 * 1024 * 1024
_RECORD_FIELDS = ("topic", "partition", "offset", "timestamp", "key", "value", "headers")


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


def _quote(value: Any, limit: int = 80) -> str:
    """A claimed value in a report line: short, whatever a hostile message put there."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def letter_id_of(letter: dict[str, Any]) -> str | None:
    """The id the handler's `dead_letter` gives this record, computed from the letter's bytes.

    None when the record had no usable topic, partition or offset: the handler then named it by
    where it sat in its event, which the letter does not carry, so no id can be checked.
    """
    record = MskRecord({name: letter.get(name) for name in _RECORD_FIELDS}, group="")
    if not record.well_formed:
        return None
    return dead_letter(record, "")["letter_id"]


def from_letter(letter: Any, message: StoredMessage) -> list[Item]:
    if not isinstance(letter, dict):
        message.kept.append(f"the letter is a JSON {type(letter).__name__}, not an object")
        return []
    origin = f"{letter.get('topic')}-{letter.get('partition')}@{letter.get('offset')}"[:200]
    if letter.get("value") is None:
        message.kept.append(f"{origin}: null value (a tombstone is never re-published)")
        return []
    if topic_name_problem(letter.get("topic")):
        message.kept.append(f"{origin}: no topic to re-publish to (not a Kafka topic name)")
        return []
    try:
        key, value = _unb64(letter.get("key")), _unb64(letter["value"])
        headers = decode_headers(letter.get("headers"))  # the handler's reading of them
    except (ValueError, TypeError) as err:  # binascii.Error is a ValueError
        message.kept.append(f"{origin}: cannot rebuild its bytes: {err}")
        return []
    rid = letter_id_of(letter)
    if rid is None:
        message.kept.append(f"{origin}: no usable partition or offset, so its letter_id cannot be "
                            "checked against its bytes")
        return []
    if letter.get("letter_id") != rid:
        message.kept.append(f"{origin}: letter_id {_quote(letter.get('letter_id'))} does not match "
                            f"its bytes (they give {rid[:16]}...)")
        return []
    return [Item(rid, letter["topic"], key, value, headers, origin)]


def _s3_location_problem(where: dict[str, Any]) -> str | None:
    if not isinstance(where.get("bucket"), str) or not isinstance(where.get("key"), str):
        return "the pointer names no S3 bucket and key"
    size = where.get("bytes")
    if type(size) is not int or not 0 < size <= MAX_LETTER_BYTES:
        return f"the pointer's size {_quote(size)} is not that of a letter"
    if not isinstance(where.get("sha256"), str):
        return "the pointer has no sha256"
    return None


def fetch_pointer(pointer: dict[str, Any], s3: Callable[[], Any],
                  message: StoredMessage) -> dict | None:
    """The letter a pointer stands for, or None (the reason added to `message.kept`). `s3` makes
    the client: a pointer refused on sight never opens one."""
    where = pointer["s3"]
    if problem := _s3_location_problem(where):
        message.kept.append(problem)
        return None
    place = f"s3://{where['bucket']}/{where['key']}"[:300]  # both come from the message
    try:
        obj = s3().get_object(Bucket=where["bucket"], Key=where["key"])
        if obj.get("ContentLength", 0) > MAX_LETTER_BYTES:
            message.kept.append(f"{place}: larger than any letter")
            return None
        data = obj["Body"].read()
    except Exception as err:  # noqa: BLE001 - kept and reported, whatever S3 said
        message.kept.append(f"{place}: {err}")
        return None
    if len(data) != where["bytes"] or hashlib.sha256(data).hexdigest() != where["sha256"]:
        message.kept.append(f"{place}: size or sha256 differ from the pointer")
        return None
    try:
        letter = json.loads(data)
    except (ValueError, RecursionError) as err:  # not UTF-8 or not JSON; nested too deeply
        message.kept.append(f"{place}: not a JSON letter: {type(err).__name__}: {err}"[:300])
        return None
    if not isinstance(letter, dict):
        message.kept.append(f"{place}: not a JSON letter: a JSON {type(letter).__name__}")
        return None
    if letter.get("letter_id") != pointer.get("letter_id"):
        message.kept.append(f"{place}: the pointer's letter_id {_quote(pointer.get('letter_id'))} "
                            f"does not match its letter's {_quote(letter.get('letter_id'))}")
        return None
    return letter


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


def _offset(value: Any, name: str) -> int:
    # AWS writes offsets as decimal strings; a number is accepted too, nothing else.
    if type(value) is int or (isinstance(value, str) and value.isascii() and value.isdigit()):
        return int(value)
    raise ValueError(f"{name} {_quote(value)} is not an offset")


def batch_ranges(info: Any) -> list[tuple[str, int, int, int]]:
    """(topic, partition, first, last) per "<topic>-<partition>" of recordsInfo; ValueError for
    anything that is not a non-empty set of ranges first <= last (nothing to re-read is not a
    replay: such a record is kept, never deleted)."""
    records_info = info.get("recordsInfo") if isinstance(info, dict) else None
    if not isinstance(records_info, dict) or not records_info:
        raise ValueError("recordsInfo names no partition")
    ranges = []
    for name, entry in records_info.items():
        topic, _, partition = name.rpartition("-")  # topic names may contain "-"
        if topic_name_problem(topic) or not (partition.isascii() and partition.isdigit()):
            raise ValueError(f"{_quote(name)} is not <topic>-<partition>")
        if not isinstance(entry, dict):
            raise ValueError(f"{name}: no offsets")
        first = _offset(entry.get("firstRecordOffset"), "firstRecordOffset")
        last = _offset(entry.get("lastRecordOffset"), "lastRecordOffset")
        if first > last:
            raise ValueError(f"{name}: first offset {first} is after last offset {last}")
        ranges.append((topic, int(partition), first, last))
    return ranges


def from_batch_info(body: dict[str, Any], reader: Callable[[], Any],
                    message: StoredMessage) -> list[Item]:
    """The records of the ranges it names, re-read from Kafka (`reader` makes the reader: a record
    refused on sight never connects)."""
    items: list[Item] = []
    try:
        ranges = batch_ranges(body["KafkaBatchInfo"])
    except ValueError as err:
        message.kept.append(f"KafkaBatchInfo refused: {err}")
        return []
    for topic, partition, first, last in ranges:
        try:
            records, missing = reader().read(topic, partition, first, last)
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


def expand(message: StoredMessage, s3: Callable[[], Any],
           reader: Callable[[], Any]) -> list[Item]:
    """The records this message stands for; reasons to keep it are added to `message.kept`.
    `s3` and `reader` make (or return the already made) S3 client and Kafka offset reader."""
    body = message.body
    kind = letter_kind(body)
    if kind == "letter":
        return from_letter(body, message)
    if kind == "pointer":
        letter = fetch_pointer(body, s3, message)
        return [] if letter is None else from_letter(letter, message)
    if kind == "batch-info":
        return from_batch_info(body, reader, message)
    message.kept.append("not a dead letter this tool knows (not JSON, or an unknown shape)")
    return []
