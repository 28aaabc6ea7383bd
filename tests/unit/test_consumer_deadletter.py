"""Dead-letter sinks: selection by environment, the letter id (issue 15 point 2),
and the SQS + S3 sink against a real SQS/S3-compatible server (moto's server mode, `local.aws`)."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys

import boto3
import pytest
from botocore.stub import Stubber
from dead_letter_format import MskRecord, dead_letter, letter_kind
from event_consumer.deadletter import sink_from_env
from event_consumer.errors import ConfigError, DeadLetterError
from event_consumer.sqs_sink import SQS_MAX_BYTES, SqsDeadLetterSink

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/event-dlq"


def record(offset: int = 0, value: bytes = b"\xffpoison", **raw) -> MskRecord:
    fields = {"topic": "events", "partition": 0, "offset": offset, "timestamp": 1,
              "key": None, "value": base64.b64encode(value).decode(), "headers": []}
    return MskRecord(fields | raw, "events-0", offset)


def letter(offset: int = 0, size: int = 10, value: bytes | None = None) -> dict:
    return dead_letter(record(offset, b"x" * size if value is None else value), "r")


# --- selection -------------------------------------------------------------------------------

def test_sqs_sink_selected_by_env(dead_letter_aws):
    sink = sink_from_env(dead_letter_aws.env())
    assert isinstance(sink, SqsDeadLetterSink) and sink.bucket == dead_letter_aws.bucket


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no dead-letter sink"),
        ({"DEAD_LETTER_QUEUE_URL": "sqs://queue", "DEAD_LETTER_BUCKET": "b-1"},
         "https:// SQS queue URL"),
        ({"DEAD_LETTER_QUEUE_URL": "http://sqs.example.com/1/q", "DEAD_LETTER_BUCKET": "b-1"},
         "http:// on loopback"),
        ({"DEAD_LETTER_QUEUE_URL": QUEUE}, "DEAD_LETTER_BUCKET is required"),
        ({"DEAD_LETTER_QUEUE_URL": QUEUE, "DEAD_LETTER_BUCKET": "Not_A_Bucket"}, "S3 bucket name"),
        # The SQLite store is gone: its variable alone configures nothing, and says so.
        ({"DEAD_LETTER_SQLITE_PATH": "/tmp/d.sqlite"}, "set DEAD_LETTER_QUEUE_URL"),
    ],
)
def test_bad_sink_configuration_is_one_clear_message(env, message):
    with pytest.raises(ConfigError) as caught:
        sink_from_env(env)
    assert len(caught.value.problems) == 1 and message in caught.value.problems[0]


# --- the letter id: a redelivery is the same letter, a recreated topic's record another ------

def test_a_different_record_at_the_same_coordinates_is_a_different_letter():
    # A topic deleted and recreated: offset 0 of partition 0 holds a different record.
    first, second = letter(0, value=b"\xffold"), letter(0, value=b"\xffnew")
    assert first["letter_id"] != second["letter_id"]
    assert letter(3)["letter_id"] == letter(3)["letter_id"]  # the mapping retried the batch


# --- SQS + S3 against the local server ---------------------------------------------------------

def test_sqs_sink_delivers_every_letter_in_batches_within_the_limits(dead_letter_aws):
    sink = sink_from_env(dead_letter_aws.env())
    requests = []
    sink.sqs.meta.events.register(
        "provide-client-params.sqs.SendMessageBatch",
        lambda params, **_: requests.append([len(e["MessageBody"]) for e in params["Entries"]]))
    letters = [letter(i) for i in range(23)] + [letter(100 + i, 100_000) for i in range(3)]

    sink.send(letters)

    assert [len(r) for r in requests][:2] == [10, 10] and sum(map(len, requests)) == 26
    assert all(len(sizes) <= 10 and sum(sizes) <= SQS_MAX_BYTES for sizes in requests)
    received = dead_letter_aws.drain()
    assert sorted(x["letter_id"] for x in received) == sorted(x["letter_id"] for x in letters)
    assert all(letter_kind(x) == "letter" for x in received)


def test_an_oversized_letter_goes_to_s3_whole_with_a_pointer_in_the_queue(dead_letter_aws):
    big = letter(7, size=SQS_MAX_BYTES)  # base64 makes it a third bigger still
    small = letter(8)

    sink_from_env(dead_letter_aws.env()).send([big, small])

    received = {x["offset"]: x for x in dead_letter_aws.drain()}
    assert letter_kind(received[8]) == "letter" and received[8] == small
    pointer = received[7]
    assert letter_kind(pointer) == "pointer"
    assert len(json.dumps(pointer)) < 2_000
    assert pointer["letter_id"] == big["letter_id"] and pointer["reason"] == big["reason"]
    stored = dead_letter_aws.object(pointer["s3"]["key"])
    assert json.loads(stored) == big  # the full payload, not truncated
    assert pointer["s3"] == {"bucket": dead_letter_aws.bucket, "key": pointer["s3"]["key"],
                             "bytes": len(stored), "sha256": hashlib.sha256(stored).hexdigest()}


def test_an_unreachable_queue_is_a_dead_letter_error(dead_letter_aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9")  # nothing listens there
    sink = sink_from_env(dead_letter_aws.env() | {"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9"})
    with pytest.raises(DeadLetterError, match="SQS SendMessageBatch failed"):
        sink.send([letter(0)])


def test_sqs_partial_failure_raises():
    # A partial failure cannot be provoked on the local server: botocore's Stubber checks the
    # response against SQS's real API model instead.
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("send_message_batch", {
            "Successful": [],
            "Failed": [{"Id": "0", "SenderFault": False, "Code": "InternalError", "Message": "x"}],
        })
        with pytest.raises(DeadLetterError, match="rejected 1"):
            SqsDeadLetterSink(QUEUE, "bucket", sqs=client).send([letter(0)])


def test_handler_cold_import_does_not_load_boto3():
    code = (
        "import sys, event_consumer.handler as h; "
        "print('boto3' in sys.modules, 'event_api' in sys.modules, 'kafka' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
        env={"DEAD_LETTER_QUEUE_URL": QUEUE, "DEAD_LETTER_BUCKET": "dead-letters"},
    ).stdout.split()
    assert out == ["False", "False", "False"]
