"""A record as the MSK event source mapping delivers it, and its content address.

`record_id` is computed the same way from the mapping's base64 (the consumer dead-lettering a
record) and from the bytes re-read from Kafka (the replay tool), so replay publishes a record at
most once whichever way it arrived.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

_b64decode = base64.b64decode


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
        """How a partial batch response names this record (the consumer's handler.py)."""
        return {"partition": self.group, "offset": self.offset}


def _as_int(value: Any) -> int | None:
    # AWS's examples show partition both as a number and as a string.
    if type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


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
