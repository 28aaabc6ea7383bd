"""Turn the MSK event source mapping's event into records, and records into validated events."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from event_contract.schema import InvalidEvent, validate_event

from event_consumer.errors import PoisonRecordError


@dataclass(frozen=True)
class KafkaRecord:
    """One record as the event delivered it (key/value still base64, headers as byte lists)."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: str
    key: str | None
    value: str | None
    headers: list[dict[str, list[int]]]

    @property
    def coordinates(self) -> str:
        return f"{self.topic}-{self.partition}@{self.offset}"


def iter_records(event: dict[str, Any]) -> Iterator[KafkaRecord]:
    """Records in delivery order: per "<topic>-<partition>" list, ordered by offset."""
    for records in (event.get("records") or {}).values():
        for raw in records:
            yield KafkaRecord(
                topic=raw["topic"],
                # AWS's examples show partition both as a number and as a string.
                partition=int(raw["partition"]),
                offset=int(raw["offset"]),
                timestamp=int(raw["timestamp"]),
                timestamp_type=raw.get("timestampType", "CREATE_TIME"),
                key=raw.get("key"),
                value=raw.get("value"),
                headers=raw.get("headers") or [],
            )


def b64decode_strict(text: str) -> bytes:
    """Reject anything outside the base64 alphabet rather than silently dropping it."""
    return base64.b64decode(text, validate=True)


def decode_headers(headers: list[dict[str, list[int]]]) -> list[tuple[str, bytes]]:
    """Headers arrive as a list of single-entry {name: [byte, ...]} maps; keep order and repeats."""
    return [(name, bytes(values)) for entry in headers for name, values in entry.items()]


def decode_event(record: KafkaRecord) -> dict[str, Any]:
    """The record's value as a schema-valid event, or PoisonRecordError saying why not."""
    if record.value is None:
        raise PoisonRecordError("value is missing (tombstone)")
    try:
        payload = b64decode_strict(record.value)
    except (binascii.Error, ValueError, TypeError) as err:
        raise PoisonRecordError(f"value is not base64: {err}") from None
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PoisonRecordError(f"value is not UTF-8: {err.reason} at byte {err.start}") from None
    try:
        event = json.loads(text)
    except json.JSONDecodeError as err:
        raise PoisonRecordError(f"value is not JSON: {err.msg} at {err.pos}") from None
    try:
        return validate_event(event)
    except InvalidEvent as err:
        raise PoisonRecordError(err.reason) from None
