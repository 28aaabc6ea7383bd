"""Turn the MSK event source mapping's event into records, and records into validated events.

Nothing a producer writes may fail the invocation: every way a record can be malformed (its
envelope fields, its headers, its base64, its UTF-8, its JSON - nested 1,000 deep or a number of
more than 4,300 digits - or its schema) makes `decode_event` raise `PoisonRecordError`, and the
handler dead-letters that one record with its payload exactly as delivered.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEvent
from event_contract.schema import InvalidEvent, validate_event

from event_consumer.errors import PoisonRecordError

_b64decode = base64.b64decode
_json_loads = json.loads


class MskRecord:
    """One record as the mapping delivered it: the raw dict plus its coordinates.

    `raw` is kept untouched (key/value base64, headers as {name: [byte, ...]} lists, or whatever
    a broken producer or mapping put there), so a dead letter can carry it byte for byte.
    Coordinates are read leniently: a record whose topic/partition/offset are unusable is still a
    record to dead-letter, never a reason to fail the batch.
    """

    __slots__ = ("raw", "topic", "partition", "offset", "group", "position")

    def __init__(self, raw: Any, group: str, position: int = 0) -> None:
        self.raw = raw if isinstance(raw, dict) else {"malformed": raw}
        self.group = group  # the "<topic>-<partition>" key it arrived under
        self.position = position  # index in that group's list (names records without offsets)
        get = self.raw.get
        self.topic = get("topic")
        self.partition = _as_int(get("partition"))
        self.offset = _as_int(get("offset"))

    @property
    def coordinates(self) -> str:
        return f"{self.topic}-{self.partition}@{self.offset}"

    @property
    def well_formed(self) -> bool:
        return isinstance(self.topic, str) and self.partition is not None \
            and self.offset is not None

    @property
    def item_identifier(self) -> dict[str, Any]:
        """How a partial batch response names this record (see handler.py)."""
        return {"partition": self.group, "offset": self.offset}


def _as_int(value: Any) -> int | None:
    # AWS's examples show partition both as a number and as a string.
    if type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def iter_records(event: dict[str, Any]) -> Iterator[MskRecord]:
    """Records in delivery order: per "<topic>-<partition>" list, in offset order.

    Powertools' `KafkaEvent` is the typed view of the MSK event; its `records` property wraps each
    record in a DictWrapper, which costs more than the decode itself at 10,000 records, so the
    grouping is read from the same mapping it wraps (`raw_event`).
    """
    groups = KafkaEvent(event).raw_event.get("records") or {}
    if not isinstance(groups, dict):
        yield MskRecord({"records": groups}, "malformed")
        return
    for group, records in groups.items():
        if not isinstance(records, list):
            yield MskRecord({"records": records}, str(group))
            continue
        for position, raw in enumerate(records):
            yield MskRecord(raw, group, position)


def decode_headers(headers: Any) -> list[tuple[str, bytes]]:
    """Headers arrive as a list of single-entry {name: [byte, ...]} maps; keep order and repeats.
    Raises ValueError/TypeError for any other shape (the record is then poison)."""
    if not headers:
        return []
    if not isinstance(headers, list):
        raise TypeError(f"headers must be a list, got {type(headers).__name__}")
    out = []
    for entry in headers:
        if not isinstance(entry, dict):
            raise TypeError(f"header entries must be objects, got {type(entry).__name__}")
        for name, values in entry.items():
            if not isinstance(values, list):
                raise TypeError(f"header {name!r} must be a list of byte values")
            out.append((name, bytes(values)))  # ValueError outside 0..255, TypeError for non-int
    return out


def decode_event(record: MskRecord) -> dict[str, Any]:
    """The record's value as a schema-valid event, or PoisonRecordError saying why not."""
    raw = record.raw
    if not record.well_formed:
        raise PoisonRecordError("malformed record: topic, partition or offset missing or invalid")
    value = raw.get("value")
    if value is None:
        raise PoisonRecordError("value is missing (tombstone)")
    try:
        # validate=True: reject anything outside the alphabet rather than silently dropping it.
        payload = _b64decode(value, validate=True)
    except Exception as err:  # noqa: BLE001 - binascii.Error, TypeError for a non-string...
        raise PoisonRecordError(f"value is not base64: {err}") from None
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PoisonRecordError(f"value is not UTF-8: {err.reason} at byte {err.start}") from None
    try:
        event = _json_loads(text)
    except json.JSONDecodeError as err:
        raise PoisonRecordError(f"value is not JSON: {err.msg} at {err.pos}") from None
    except RecursionError:
        raise PoisonRecordError("value is not usable JSON: nested too deeply") from None
    except ValueError as err:  # e.g. an integer longer than sys.get_int_max_str_digits()
        raise PoisonRecordError(f"value is not usable JSON: {err}") from None
    try:
        return validate_event(event)
    except InvalidEvent as err:
        raise PoisonRecordError(err.reason) from None
    except RecursionError:  # a validator walking a very deep (but parseable) document
        raise PoisonRecordError("schema: value nested too deeply") from None


def _bytes_or_text(value: Any) -> Any:
    """Decoded bytes (hex) for well-formed base64, else the value as it came."""
    if isinstance(value, str):
        try:
            return _b64decode(value, validate=True).hex()
        except ValueError:
            return value
    return value


def record_id(topic: Any, partition: Any, offset: Any, timestamp: Any, key: Any, value: Any,
              headers: Any) -> str:
    """A content address for one Kafka record: sha256 over its coordinates and bytes.

    The same record gives the same id whether it was dead-lettered by the handler (base64 from the
    mapping) or re-read from Kafka by the replay tool, so replay publishes it at most once. A
    different record at the same coordinates (a recreated topic) gets a different id.
    """
    document = [
        topic, _as_int(partition), _as_int(offset), _as_int(timestamp),
        _bytes_or_text(key), _bytes_or_text(value),
        headers if not isinstance(headers, list) else [
            {name: (bytes(v).hex() if _is_byte_list(v) else v) for name, v in entry.items()}
            if isinstance(entry, dict) else entry
            for entry in headers
        ],
    ]
    try:
        canonical = json.dumps(document, separators=(",", ":"), sort_keys=True, default=repr)
    except (RecursionError, ValueError):  # absurdly nested garbage: identify it by its place
        canonical = json.dumps(["unserialisable", repr(topic)[:300], repr(partition)[:50],
                                repr(offset)[:50], repr(timestamp)[:50]])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _is_byte_list(values: Any) -> bool:
    return isinstance(values, list) and all(type(v) is int and 0 <= v < 256 for v in values)
