"""Dead-letter sink selection and the SQS sink's batching (SQS itself cannot be reached here)."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
from botocore.stub import Stubber
from event_consumer.deadletter import (
    SQS_MAX_BYTES,
    SqliteDeadLetterSink,
    SqsDeadLetterSink,
    sink_from_env,
)
from event_consumer.errors import ConfigError, DeadLetterError

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/event-dlq"


def test_sqlite_sink_selected_by_env(tmp_path):
    sink = sink_from_env({"DEAD_LETTER_SQLITE_PATH": str(tmp_path / "d.sqlite")})
    assert isinstance(sink, SqliteDeadLetterSink)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no dead-letter sink"),
        ({"DEAD_LETTER_QUEUE_URL": QUEUE, "DEAD_LETTER_SQLITE_PATH": "/tmp/x"}, "only one"),
        ({"DEAD_LETTER_QUEUE_URL": "sqs://queue"}, "https:// SQS queue URL"),
        ({"DEAD_LETTER_SQLITE_PATH": "/no/such/dir/d.sqlite"}, "does not exist"),
    ],
)
def test_bad_sink_configuration_is_one_clear_message(env, message):
    with pytest.raises(ConfigError) as caught:
        sink_from_env(env)
    assert len(caught.value.problems) == 1 and message in caught.value.problems[0]


def _letter(i: int, size: int = 10) -> dict:
    return {"reason": "r", "topic": "t", "partition": 0, "offset": i, "value": "A" * size}


def _client():
    return boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x")


def test_sqs_sink_sends_batches_of_at_most_ten_within_the_size_limit():
    # botocore's Stubber checks each request against the real SQS API model; no network.
    client = _client()
    letters = [_letter(i) for i in range(23)] + [_letter(100 + i, 100_000) for i in range(3)]
    with Stubber(client) as stub:
        for _ in range(4):
            stub.add_response("send_message_batch", {"Successful": [], "Failed": []})
        sent = []
        client.meta.events.register(
            "provide-client-params.sqs.SendMessageBatch",
            lambda params, **_: sent.append(
                [json.loads(e["MessageBody"]) for e in params["Entries"]]
            ),
        )
        SqsDeadLetterSink(QUEUE, client=client).send(letters)
        stub.assert_no_pending_responses()
    assert [len(b) for b in sent] == [10, 10, 5, 1]
    assert [x for b in sent for x in b] == letters
    assert all(sum(len(json.dumps(x)) for x in b) <= SQS_MAX_BYTES for b in sent)


def test_sqs_partial_failure_raises():
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("send_message_batch", {
            "Successful": [],
            "Failed": [{"Id": "0", "SenderFault": False, "Code": "InternalError", "Message": "x"}],
        })
        with pytest.raises(DeadLetterError, match="rejected 1"):
            SqsDeadLetterSink(QUEUE, client=client).send([_letter(0)])


def test_oversized_dead_letter_raises_rather_than_truncating():
    with pytest.raises(DeadLetterError, match="exceeds the SQS limit"):
        SqsDeadLetterSink(QUEUE, client=_client()).send([_letter(0, SQS_MAX_BYTES)])


def test_handler_cold_import_does_not_load_boto3(tmp_path):
    code = (
        "import sys, event_consumer.handler as h; "
        "print('boto3' in sys.modules, 'event_api' in sys.modules, 'kafka' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
        env={"DEAD_LETTER_SQLITE_PATH": str(tmp_path / "d.db")},
    ).stdout.split()
    assert out == ["False", "False", "False"]
