"""The event written to Kafka for each /current_time request, and its Kafka record form.

The event's JSON Schema is the contract with the Lambda consumer: one file in the shared
`event_contract` package, which both deployables install (re-exported here as EVENT_SCHEMA).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from event_contract.schema import EVENT_SCHEMA

from event_api.event_ids import new_event_id

__all__ = ["EVENT_SCHEMA", "Event", "OutgoingRecord", "build_event", "greeting", "to_record"]

CONTENT_TYPE = b"application/json"


@dataclass(frozen=True)
class Event:
    event_id: str
    timestamp: int
    message: str
    name: str

    def as_dict(self) -> dict:
        return {
            "event_id": self.event_id,
            "timestamp": self.timestamp,
            "message": self.message,
            "name": self.name,
        }

    def response_body(self) -> dict:
        """What /current_time answers: exactly the two fields the issue specifies."""
        return {"timestamp": self.timestamp, "message": self.message}

    def response_json(self) -> bytes:
        return orjson.dumps(self.response_body())


@dataclass(frozen=True)
class OutgoingRecord:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def greeting(name: str) -> str:
    return f"Hello, {name}!"


def build_event(
    name: str,
    clock: Callable[[], float] = time.time,
    id_factory: Callable[[], object] = new_event_id,
) -> Event:
    return Event(
        event_id=str(id_factory()), timestamp=int(clock()), message=greeting(name), name=name
    )


def to_record(event: Event) -> OutgoingRecord:
    """Key by name so one name's events stay ordered in one partition; id also as a header
    so consumers can deduplicate without parsing the payload."""
    # orjson: compact UTF-8 JSON, the same bytes as json.dumps(separators=(",", ":"),
    # ensure_ascii=False), several times faster (bench/RESULTS.md).
    return OutgoingRecord(
        key=event.name.encode("utf-8"),
        value=orjson.dumps(event.as_dict()),
        headers=[("event_id", event.event_id.encode("ascii")), ("content-type", CONTENT_TYPE)],
    )
