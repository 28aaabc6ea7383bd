"""Issue 15 point 1: ANY failure to decode or validate one record dead-letters that record with its
payload and lets the good ones through; the invocation never fails for a producer's bad bytes."""

from __future__ import annotations

import base64
import json

import pytest
from event_api.events import build_event, to_record
from event_consumer.handler import build_handler

from tests.fixtures.consumer import EXAMPLE_ARN, EXAMPLE_BOOTSTRAP


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def good_record(offset: int, partition: int = 0) -> dict:
    record = to_record(build_event(f"user{offset}"))
    return {"topic": "events", "partition": partition, "offset": offset,
            "timestamp": 1_700_000_000_000, "timestampType": "CREATE_TIME",
            "key": b64(record.key), "value": b64(record.value),
            "headers": [{n: list(v)} for n, v in record.headers]}


def deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


HOSTILE = {
    # name: changes applied to an otherwise good record
    "json nested 1,000 deep": {"value": b64(deep(1000))},
    "json nested 100,000 deep": {"value": b64(deep(100_000))},
    "event with a nested field 5,000 deep": {"value": b64(
        b'{"event_id":"3f1c1d0e-0000-4000-8000-000000000000","timestamp":1,"message":"m",'
        b'"name":"Ann","x":' + deep(5000) + b"}")},
    "number with 5,000 digits": {"value": b64(b'{"timestamp": ' + b"9" * 5000 + b"}")},
    "timestamp with 5,000 digits in a valid shape": {"value": b64(
        b'{"event_id":"3f1c1d0e-0000-4000-8000-000000000000","timestamp":' + b"7" * 5000
        + b',"message":"m","name":"Ann"}')},
    "invalid UTF-8": {"value": b64(b'{"name": "\xff\xfe"}')},
    "lone surrogate escape": {"value": b64(b'{"name": "\\ud800"}')},
    "bad base64": {"value": "!!!not base64!!!"},
    "value not a string": {"value": 12345},
    "value an object": {"value": {"nested": True}},
    "tombstone": {"value": None},
    "headers not a list": {"headers": {"event_id": [1, 2]}},
    "header entry not an object": {"headers": [["event_id", [1, 2]]]},
    "header values a string": {"headers": [{"event_id": "abc"}]},
    "header byte out of range": {"headers": [{"event_id": [1, 256]}]},
    "header byte negative": {"headers": [{"event_id": [-1]}]},
    "header byte a float": {"headers": [{"event_id": [1.5]}]},
    "key not a string": {"key": [1, 2, 3]},
    "partition missing": {"partition": None},
    "offset not a number": {"offset": "eleven"},
    "topic not a string": {"topic": 7},
    "schema violation": {"value": b64(json.dumps({"event_id": "x"}).encode())},
}


def stored(dead_letters) -> list[dict]:
    return dead_letters.letters()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_record_is_dead_lettered_with_its_payload_and_the_rest_processed(
    name, dead_letter_aws, lambda_context
):
    hostile = good_record(1) | HOSTILE[name]
    event = {"eventSource": "aws:kafka", "eventSourceArn": EXAMPLE_ARN,
             "bootstrapServers": EXAMPLE_BOOTSTRAP,
             "records": {"events-0": [good_record(0), hostile, good_record(2)]}}
    seen = []
    handler = build_handler(sink=dead_letter_aws.sink(),
                            process_fn=lambda event, meta: seen.append(meta.offset),
                            report_failures=False)

    result = handler(event, lambda_context)

    assert result == {"processed": 2, "dead_lettered": 1}
    assert seen == [0, 2]
    [letter] = stored(dead_letter_aws)
    for field in ("topic", "partition", "offset", "key", "value", "headers", "timestamp"):
        assert letter[field] == hostile.get(field), field  # exactly as delivered
    assert letter["reason"] and len(letter["letter_id"]) == 64


def test_a_record_that_is_not_an_object_is_dead_lettered(dead_letter_aws, lambda_context):
    event = {"records": {"events-0": [good_record(0), "garbage", 42, None]}}
    handler = build_handler(sink=dead_letter_aws.sink(),
                            process_fn=lambda e, m: None, report_failures=False)

    assert handler(event, lambda_context) == {"processed": 1, "dead_lettered": 3}
    assert sorted(json.dumps(x["malformed"]) for x in stored(dead_letter_aws)) == [
        '"garbage"', "42", "null"]


def test_a_partition_list_that_is_not_a_list_is_dead_lettered(dead_letter_aws, lambda_context):
    event = {"records": {"events-0": {"not": "a list"}, "events-1": [good_record(0, 1)]}}
    handler = build_handler(sink=dead_letter_aws.sink(),
                            process_fn=lambda e, m: None, report_failures=False)

    assert handler(event, lambda_context) == {"processed": 1, "dead_lettered": 1}
    [letter] = stored(dead_letter_aws)
    assert letter["malformed"] == {"not": "a list"}  # kept whole
