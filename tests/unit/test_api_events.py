"""The event, its Kafka record form, the schema the consumer copies, and UUIDv7 ids."""

import json
import threading
import uuid

from event_api.event_ids import UUID7Generator
from event_api.events import EVENT_SCHEMA, build_event, greeting, to_record


def _event(name="Ada", now=1_700_000_000.9):
    return build_event(name, clock=lambda: now)


def test_payload_is_exactly_the_contract():
    event = _event()
    record = to_record(event)
    payload = json.loads(record.value.decode("utf-8"))
    assert set(payload) == {"event_id", "timestamp", "message", "name"}
    assert payload["timestamp"] == 1_700_000_000  # int epoch seconds, truncated
    assert payload["message"] == "Hello, Ada!"
    assert payload["name"] == "Ada"
    assert uuid.UUID(payload["event_id"]).version == 7


def test_key_is_the_name_and_headers_carry_id_and_content_type():
    event = _event("ada-lovelace_2")
    record = to_record(event)
    assert record.key == b"ada-lovelace_2"
    assert record.headers == [
        ("event_id", event.event_id.encode("ascii")),
        ("content-type", b"application/json"),
    ]
    # kafka-python requires (str, bytes) header tuples.
    assert all(isinstance(k, str) and isinstance(v, bytes) for k, v in record.headers)


def test_response_body_is_exactly_timestamp_and_message():
    event = _event()
    assert event.response_body() == {"timestamp": 1_700_000_000, "message": "Hello, Ada!"}


def test_greeting():
    assert greeting("Bob") == "Hello, Bob!"


def test_schema_is_small_standard_and_closed():
    assert EVENT_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert EVENT_SCHEMA["additionalProperties"] is False
    assert set(EVENT_SCHEMA["required"]) == {"event_id", "timestamp", "message", "name"}
    json.dumps(EVENT_SCHEMA)  # plain data, copyable by the consumer


def test_built_events_validate_against_the_schema_and_bad_ones_do_not():
    import jsonschema_rs
    validator = jsonschema_rs.validator_for(EVENT_SCHEMA)
    good = json.loads(to_record(_event()).value)
    assert validator.is_valid(good)
    assert not validator.is_valid({**good, "extra": 1})
    assert not validator.is_valid({**good, "timestamp": "now"})
    assert not validator.is_valid({k: v for k, v in good.items() if k != "event_id"})
    assert not validator.is_valid({**good, "name": "9lives"})


def test_uuid7_ids_are_unique_and_time_ordered():
    generate = UUID7Generator()
    ids = [generate() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids, key=lambda u: u.bytes)
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)


def test_uuid7_timestamp_is_the_clock_millisecond():
    generate = UUID7Generator(clock_ns=lambda: 1_700_000_000_123_456_789)
    value = generate()
    assert value.int >> 80 == 1_700_000_000_123


def test_uuid7_stays_ordered_when_the_clock_stalls_or_steps_back():
    times = iter([5_000_000, 5_000_000, 4_000_000, 4_000_000] + [5_000_000] * 5000)
    generate = UUID7Generator(clock_ns=lambda: next(times))
    ids = [generate() for _ in range(5004)]  # > 4096 in one ms forces the overflow path
    assert ids == sorted(ids, key=lambda u: u.bytes)
    assert len(set(ids)) == len(ids)


def test_uuid7_is_safe_across_threads():
    generate = UUID7Generator()
    out = []
    lock = threading.Lock()

    def work():
        local = [generate() for _ in range(2000)]
        with lock:
            out.extend(local)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 8000
