"""The local event source mapping's event and on-failure record match AWS's documented shapes."""

from __future__ import annotations

import base64
import json

import pytest
from dead_letter_format import letter_kind

from local.esm import EsmSettings, SettingsError, build_msk_event, load_settings, on_failure_record
from local.esm.on_failure import open_destination
from local.esm.poller import partial_batch_retry
from tests.fixtures.consumer import consumer_record


def test_event_built_from_broker_records_equals_the_documented_example(aws_msk_event):
    raw = aws_msk_event["records"]["mytopic-0"][0]
    # The same record as the broker would hand it over (bytes, not base64).
    record = consumer_record(
        base64.b64decode(raw["value"]),
        topic="mytopic", partition=0, offset=15, timestamp=raw["timestamp"],
        key=base64.b64decode(raw["key"]),
        headers=[("headerKey", b"headerValue")],
    )

    built = build_msk_event([record], aws_msk_event["eventSourceArn"],
                            aws_msk_event["bootstrapServers"])

    # The example's key is not canonical base64 (non-zero padding bits); compare decoded bytes.
    built_key = built["records"]["mytopic-0"][0].pop("key")
    expected = json.loads(json.dumps(aws_msk_event))
    expected_key = expected["records"]["mytopic-0"][0].pop("key")
    assert base64.b64decode(built_key) == base64.b64decode(expected_key)
    assert built == expected


def test_records_are_grouped_by_topic_partition_in_offset_order():
    records = [
        consumer_record(b"c", partition=1, offset=7),
        consumer_record(b"a", partition=0, offset=3),
        consumer_record(b"b", partition=0, offset=4),
        consumer_record(b"d", partition=1, offset=8, key=None),
    ]
    event = build_msk_event(records, "arn", "host:9098")
    assert {k: [r["offset"] for r in v] for k, v in event["records"].items()} == {
        "events-1": [7, 8],
        "events-0": [3, 4],
    }
    assert "key" not in event["records"]["events-1"][1]


def _settings(**overrides) -> EsmSettings:
    return EsmSettings(bootstrap_servers="127.0.0.1:9098", topics=("events",), region="us-east-1",
                       **overrides)


def test_on_failure_record_has_the_documented_fields():
    records = [consumer_record(b"x", offset=o, partition=p) for p in (0, 1) for o in (5, 6, 7)]
    doc = on_failure_record(records, _settings(), invoke_count=4, payload_size=1234)

    assert set(doc) == {"requestContext", "responseContext", "version", "timestamp",
                        "KafkaBatchInfo"}
    assert set(doc["requestContext"]) == {"requestId", "functionArn", "condition",
                                          "approximateInvokeCount"}
    assert doc["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert doc["requestContext"]["approximateInvokeCount"] == 4
    assert doc["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                      "functionError": "Unhandled"}
    assert doc["version"] == "1.0" and doc["timestamp"].endswith("Z")
    info = doc["KafkaBatchInfo"]
    assert info["batchSize"] == 6 and info["payloadSize"] == 1234
    assert info["eventSourceArn"].startswith("arn:aws:kafka:us-east-1:")
    assert info["recordsInfo"]["events-1"] == {
        "firstRecordOffset": "5", "lastRecordOffset": "7",
        "firstRecordTimestamp": "2023-11-14T22:13:20.000Z",
        "lastRecordTimestamp": "2023-11-14T22:13:20.000Z",
    }


@pytest.mark.parametrize(("uri", "message"), [
    ("jsonl:/tmp/failures.jsonl", "on-failure destination must be sqs:QUEUE_URL"),
    ("sqlite:/tmp/failures.db", "on-failure destination must be sqs:QUEUE_URL"),
    ("sqs:ftp://127.0.0.1/q", "the on-failure queue must be an https:// SQS queue URL"),
])
def test_the_dead_letter_queue_is_the_only_on_failure_destination(uri, message):
    """One local dead-letter store, the one AWS has: the former file destinations are refused
    with a message that says what to use instead."""
    with pytest.raises(ValueError, match=message):
        open_destination(uri)


def test_settings_report_every_bad_value_at_once(tmp_path):
    env = {
        "KAFKA_SECURITY_PROTOCOL": "SSL",
        "ESM_BATCH_SIZE": "0",
        "ESM_BATCHING_WINDOW_S": "soon",
        "ESM_MAX_RETRY_ATTEMPTS": "-2",
        "ESM_STARTING_POSITION": "EARLIEST",
        "ESM_ON_FAILURE": "s3:bucket",
        "KAFKA_CA_FILE": str(tmp_path / "missing.pem"),
    }
    with pytest.raises(SettingsError) as caught:
        load_settings([], env)
    problems = caught.value.problems
    for expected in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_TOPIC", "KAFKA_SECURITY_PROTOCOL",
                     "ESM_BATCH_SIZE", "ESM_BATCHING_WINDOW_S", "ESM_MAX_RETRY_ATTEMPTS",
                     "ESM_STARTING_POSITION", "ESM_ON_FAILURE", "KAFKA_CA_FILE"):
        assert sum(expected in p for p in problems) >= 1, (expected, problems)


def test_flags_override_environment():
    env = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "KAFKA_TOPIC": "a", "AWS_REGION": "eu-west-1",
           "ESM_BATCH_SIZE": "10", "ESM_ON_FAILURE": "sqs:http://127.0.0.1:1/0/env-queue"}
    s = load_settings(["--topic", "b,c", "--batch-size", "500",
                       "--on-failure", "sqs:http://127.0.0.1:1/0/flag-queue"], env)
    assert s.topics == ("b", "c") and s.batch_size == 500 and s.region == "eu-west-1"
    assert s.on_failure == "sqs:http://127.0.0.1:1/0/flag-queue"


# --- partial batch responses (ReportBatchItemFailures) ------------------------------------------

def _batch():
    return [consumer_record(b"x", partition=p, offset=o) for p in (0, 1) for o in (5, 6, 7)]


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []},
                                      {"batchItemFailures": None}, {"processed": 6}])
def test_a_response_without_failures_is_a_complete_success(response):
    assert partial_batch_retry(response, _batch()) == []


def test_a_partial_response_retries_from_the_named_offset_of_each_partition():
    response = {"batchItemFailures": [
        {"itemIdentifier": {"partition": "events-0", "offset": 7}},
        {"itemIdentifier": {"partition": "events-1", "offset": 6}},
        {"itemIdentifier": {"partition": "events-1", "offset": 7}},  # the lowest one counts
    ]}
    retry = partial_batch_retry(response, _batch())
    assert [(r.partition, r.offset) for r in retry] == [(0, 7), (1, 6), (1, 7)]


@pytest.mark.parametrize("item", [
    {"partition": "events-0", "offset": 99},  # not in the batch
    {"partition": "other-0", "offset": 5},
    {"partition": "events-0", "offset": "5"},  # offset must be a number
    {"partition": "", "offset": 5},
    None, "events-0@5",
])
def test_an_invalid_identifier_fails_the_whole_batch(item):
    assert partial_batch_retry({"batchItemFailures": [{"itemIdentifier": item}]}, _batch()) is None


def test_failures_not_a_list_fail_the_whole_batch():
    assert partial_batch_retry({"batchItemFailures": "events-0"}, _batch()) is None


# --- the SQS on-failure destination: where the deployed mapping writes -------------------------

def test_the_on_failure_record_goes_to_the_dead_letter_queue(dead_letter_aws):
    dest = open_destination(f"sqs:{dead_letter_aws.queue_url}")
    record = on_failure_record(_batch(), _settings(), invoke_count=2, payload_size=10)

    dest.write(record)

    assert dest.read_all() == [record]  # peeked, still there for event_replay
    [body] = dead_letter_aws.drain()
    assert body == record and letter_kind(body) == "batch-info"


def test_a_dead_letter_queue_makes_sqs_the_default_destination(monkeypatch):
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/dlq"
    env = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "KAFKA_TOPIC": "a",
           "AWS_REGION": "us-east-1", "DEAD_LETTER_QUEUE_URL": queue}
    assert load_settings([], env).on_failure == f"sqs:{queue}"
    with pytest.raises(SettingsError) as caught:  # no queue: nowhere to put the record
        load_settings([], {k: v for k, v in env.items() if k != "DEAD_LETTER_QUEUE_URL"})
    [problem] = caught.value.problems
    assert problem.startswith("ESM_ON_FAILURE (--on-failure) = '': on-failure destination must "
                              "be sqs:QUEUE_URL")


def test_report_batch_item_failures_turns_on_the_mappings_response_type():
    env = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "KAFKA_TOPIC": "a", "AWS_REGION": "x",
           "DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:1/0/dlq"}
    assert load_settings([], env).report_batch_item_failures is False
    assert load_settings([], env | {"REPORT_BATCH_ITEM_FAILURES": "true"}
                         ).report_batch_item_failures is True
    assert load_settings(["--function-response-types", "ReportBatchItemFailures"], env
                         ).report_batch_item_failures is True
    with pytest.raises(SettingsError, match="ESM_FUNCTION_RESPONSE_TYPES"):
        load_settings(["--function-response-types", "Everything"], env)
