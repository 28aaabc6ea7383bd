"""The event written to Kafka for each /current_time request, and its Kafka record form.

EVENT_SCHEMA is the contract with the Lambda consumer (it validates with a copy of this dict).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from event_api.event_ids import new_event_id

EVENT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.invalid/schemas/hello-event.json",
    "title": "Hello event",
    "type": "object",
    "properties": {
        "event_id": {"type": "string", "format": "uuid"},
        "timestamp": {"type": "integer", "minimum": 0},
        "message": {"type": "string", "minLength": 1},
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "pattern": "^[A-Za-z][-_A-Za-z0-9]*$",
        },
    },
    "required": ["event_id", "timestamp", "message", "name"],
    "additionalProperties": False,
}

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


@dataclass(frozen=True)
class KafkaRecord:
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


def to_record(event: Event) -> KafkaRecord:
    """Key by name so one name's events stay ordered in one partition; id also as a header
    so consumers can deduplicate without parsing the payload."""
    value = json.dumps(event.as_dict(), ensure_ascii=False, separators=(",", ":"))
    return KafkaRecord(
        key=event.name.encode("utf-8"),
        value=value.encode("utf-8"),
        headers=[("event_id", event.event_id.encode("ascii")), ("content-type", CONTENT_TYPE)],
    )
