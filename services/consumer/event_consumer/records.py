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

    Not Powertools' `KafkaEvent` data class, measured (bench/RESULTS.md): importing it loads every
    Powertools event class (+40 ms of cold start, over the 100 ms budget with the rest), its
    per-record wrapper costs twice this one, and it assumes well-formed records, where this one
    must read any garbage a broken producer or mapping sends without failing the batch.
    """
    groups = event.get("records") or {}
    if not isinstance(groups, dict):  # kept whole, as one malformed "record"
        yield MskRecord({"malformed": groups}, "malformed")
        return
    for group, records in groups.items():
        if not isinstance(records, list):
            yield MskRecord({"malformed": records}, str(group))
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


def _field_bytes(value: Any, base64_text: bool = False) -> bytes:
    """A type-tagged encoding of one field: decoded bytes for well-formed base64 text (so the
    handler's base64 and the replay tool's raw bytes give the same id), JSON for anything else."""
    if value is None:
        return b"n"
    if type(value) is int:
        return b"i" + str(value).encode()
    if base64_text and isinstance(value, str):
        try:
            return b"b" + _b64decode(value, validate=True)
        except ValueError:
            pass
    if isinstance(value, str):
        return b"s" + value.encode("utf-8", "surrogatepass")
    try:
        return b"j" + json.dumps(value, separators=(",", ":"), sort_keys=True,
                                 default=repr).encode("utf-8", "surrogatepass")
    except (RecursionError, ValueError):  # absurdly nested garbage
        return b"r" + repr(type(value)).encode()


def _headers_bytes(headers: Any) -> bytes:
    if isinstance(headers, list) and all(isinstance(e, dict) for e in headers):
        try:
            return b"h" + b"".join(
                _framed(name.encode("utf-8", "surrogatepass")) + _framed(bytes(values))
                for entry in headers for name, values in entry.items())
        except (TypeError, ValueError, AttributeError):
            pass  # not names with byte lists: fall back to the generic form
    return _field_bytes(headers)


def _framed(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def record_id(topic: Any, partition: Any, offset: Any, timestamp: Any, key: Any, value: Any,
              headers: Any) -> str:
    """A content address for one Kafka record: sha256 over its coordinates and bytes.

    The same record gives the same id whether it was dead-lettered by the handler (base64 from the
    mapping) or re-read from Kafka by the replay tool, so replay publishes it at most once. A
    different record at the same coordinates (a recreated topic) gets a different id.
    """
    digest = hashlib.sha256()
    for part in (_field_bytes(topic), _field_bytes(_number(partition)),
                 _field_bytes(_number(offset)), _field_bytes(_number(timestamp)),
                 _field_bytes(key, base64_text=True), _field_bytes(value, base64_text=True),
                 _headers_bytes(headers)):
        digest.update(_framed(part))
    return digest.hexdigest()


def _number(value: Any) -> Any:
    """7 and "7" are the same partition (AWS's examples show both); anything else stays as is."""
    as_int = _as_int(value)
    return value if as_int is None else as_int
