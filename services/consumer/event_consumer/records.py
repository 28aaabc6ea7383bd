"""Turn the MSK event source mapping's event into records, and records into validated events.

Nothing a producer writes may fail the invocation: every way a record can be malformed (its
envelope fields, its headers, its base64, its UTF-8, its JSON - nested 1,000 deep or a number of
more than 4,300 digits - or its schema) makes `decode_event` raise `PoisonRecordError`, and the
handler dead-letters that one record with its payload exactly as delivered.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from dead_letter_format import MskRecord
from event_contract.schema import InvalidEvent, validate_event

from event_consumer.errors import PoisonRecordError

_b64decode = base64.b64decode
_json_loads = json.loads


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
