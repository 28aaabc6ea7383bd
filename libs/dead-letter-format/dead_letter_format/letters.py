"""Building and recognising letters and pointers (the shapes are described in __init__.py)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from dead_letter_format.record import MskRecord, record_id

REASON_MAX_CHARS = 500  # a reason quotes producer data (a header name); keep pointers small
S3_PREFIX = "dead-letters/"
_POINTER_FIELDS = ("letter_id", "reason", "topic", "partition", "offset", "dead_lettered_at")


def dead_letter(record: MskRecord, reason: str, now: datetime | None = None) -> dict[str, Any]:
    """The dead-letter document for one record, its payload exactly as delivered."""
    now = now or datetime.now(UTC)
    get = record.raw.get
    letter_id = record_id(get("topic"), get("partition"), get("offset"), get("timestamp"),
                          get("key"), get("value"), get("headers"))
    if not record.well_formed:  # no usable coordinates: where it sat in the event names it
        try:
            shape = repr(record.raw)[:100_000]
        except RecursionError:
            shape = "nested too deeply to print"
        letter_id = record_id(record.group, record.position, None, None, None, shape, letter_id)
    letter = {
        "letter_id": letter_id,
        "reason": reason[:REASON_MAX_CHARS],
        "topic": get("topic"),
        "partition": get("partition"),
        "offset": get("offset"),
        "timestamp": get("timestamp"),
        "key": get("key"),
        "value": get("value"),
        "headers": get("headers"),
        "dead_lettered_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if "malformed" in record.raw:  # the mapping sent something that is not a record object
        letter["malformed"] = record.raw["malformed"]
    return letter


def letter_kind(body: Any) -> str:
    """"letter" (payload inside), "pointer" (payload in S3), "batch-info" (the mapping's
    metadata-only on-failure record) or "unknown"."""
    if not isinstance(body, dict):
        return "unknown"
    if isinstance(body.get("KafkaBatchInfo"), dict):
        return "batch-info"
    if isinstance(body.get("s3"), dict) and "letter_id" in body:
        return "pointer"
    if "letter_id" in body and "value" in body:
        return "letter"
    return "unknown"


def s3_key(letter_id: str) -> str:
    """Derived from the content address only: producer data never names an S3 object."""
    return f"{S3_PREFIX}{letter_id[:2]}/{letter_id}.json"


def pointer(letter: dict[str, Any], bucket: str, key: str, body: bytes) -> dict[str, Any]:
    """The queue's stand-in for a letter stored in S3 (small whatever the record held)."""
    out = {name: letter.get(name) for name in _POINTER_FIELDS}
    for name in ("topic", "partition", "offset"):
        if len(json.dumps(out[name], default=repr)) > 300:  # garbage coordinates stay in S3
            out[name] = None
    out["s3"] = {"bucket": bucket, "key": key, "bytes": len(body),
                 "sha256": hashlib.sha256(body).hexdigest()}
    return out
