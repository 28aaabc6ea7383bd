"""The size of one event as the API writes it to Kafka: the default record size of the estimate."""

from __future__ import annotations


def api_record_bytes() -> int:
    """Bytes of one Kafka record as the API's own code builds it (value, key and headers)."""
    from event_api.events import build_event, to_record

    record = to_record(build_event("user-0001"))
    headers = sum(len(key) + len(value) for key, value in record.headers)
    return len(record.value) + len(record.key or b"") + headers
