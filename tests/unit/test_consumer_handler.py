"""The Lambda handler against AWS-shaped events, with a real SQLite dead-letter store."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from event_api.events import build_event, to_record
from event_consumer.errors import DeadLetterError, RetryableError
from event_consumer.handler import build_handler, handle_batch
from event_consumer.process import RecordMeta

from tests.fixtures.consumer import consumer_record


def api_value(name: str = "Bob", clock: float = 1_700_000_000.0) -> tuple[dict, bytes]:
    """An event exactly as the API writes it (its own code builds the bytes)."""
    event = build_event(name, clock=lambda: clock)
    return event.as_dict(), to_record(event).value


class Recorder:
    """A process() that remembers what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], RecordMeta]] = []

    def __call__(self, event: dict[str, Any], meta: RecordMeta) -> None:
        self.calls.append((event, meta))


def stored_letters(dead_letters) -> list[dict[str, Any]]:
    return dead_letters.letters()


def test_documented_aws_example_is_dead_lettered_with_its_payload(
    aws_msk_event, dead_letter_aws, lambda_context, consumer_logs
):
    # AWS's example value is "Hello, this is a test." - not JSON, so it is poison by our contract.
    recorder = Recorder()
    handler = build_handler(sink=dead_letter_aws.sink(), process_fn=recorder)

    result = handler(aws_msk_event, lambda_context)

    assert result == {"processed": 0, "dead_lettered": 1}
    assert recorder.calls == []
    [letter] = stored_letters(dead_letter_aws)
    raw = aws_msk_event["records"]["mytopic-0"][0]
    assert letter["reason"].startswith("value is not JSON")
    assert (letter["topic"], letter["partition"], letter["offset"]) == ("mytopic", 0, 15)
    assert letter["timestamp"] == raw["timestamp"]
    assert letter["key"] == raw["key"] and letter["value"] == raw["value"]
    assert letter["headers"] == raw["headers"]
    assert set(letter) == {
        "letter_id", "reason", "topic", "partition", "offset", "timestamp", "key", "value",
        "headers", "dead_lettered_at",
    }
    [warning] = [x for x in consumer_logs.lines() if x["message"] == "poison records dead-lettered"]
    assert warning["count"] == 1 and warning["examples"][0]["offset"] == 15


def test_documented_aws_example_shape_with_an_api_event_is_processed(
    aws_msk_event, dead_letter_aws, lambda_context
):
    event, value = api_value("Alice")
    aws_msk_event["records"]["mytopic-0"][0]["value"] = base64.b64encode(value).decode()
    recorder = Recorder()
    handler = build_handler(sink=dead_letter_aws.sink(), process_fn=recorder)

    assert handler(aws_msk_event, lambda_context) == {"processed": 1, "dead_lettered": 0}

    [(got, meta)] = recorder.calls
    assert got == event
    assert (meta.topic, meta.partition, meta.offset) == ("mytopic", 0, 15)
    assert meta.headers == [("headerKey", b"headerValue")]  # the byte list decoded
    assert stored_letters(dead_letter_aws) == []


# reason prefix -> value bytes (None = tombstone); all but "not base64" travel as real records.
POISON: dict[str, bytes | None] = {
    "value is not UTF-8": b"\xff\xfe\xfa",
    "value is not JSON": b"{broken",
    "schema:": json.dumps({"event_id": "x", "name": "Bob"}).encode(),
    "value is missing": None,
    "value is not base64": b"replaced below",
}


def test_mixed_batch_processes_good_and_dead_letters_poison_nothing_lost(
    msk_event, dead_letter_aws, lambda_context
):
    good = [api_value(f"user{i}") for i in range(6)]
    values = [v for _, v in good] + list(POISON.values())
    # Interleave: good and poison alternate over two partitions.
    order = [values[i // 2] if i % 2 == 0 else values[6 + i // 2] for i in range(10)] + [values[5]]
    records = [
        consumer_record(v, partition=i % 2, offset=i // 2) for i, v in enumerate(order)
    ]
    event = msk_event(records)
    # The mapping always sends valid base64; a corrupted value can only be injected here.
    not_b64 = next(r for recs in event["records"].values() for r in recs
                   if r.get("value") == base64.b64encode(b"replaced below").decode())
    not_b64["value"] = "!!! not base64 !!!"
    recorder = Recorder()
    handler = build_handler(sink=dead_letter_aws.sink(), process_fn=recorder)

    result = handler(event, lambda_context)

    letters = stored_letters(dead_letter_aws)
    assert result == {"processed": 6, "dead_lettered": 5}
    assert sorted(e["event_id"] for e, _ in recorder.calls) == sorted(
        e["event_id"] for e, _ in good
    )
    delivered = {(r["partition"], r["offset"]) for recs in event["records"].values() for r in recs}
    processed = {(m.partition, m.offset) for _, m in recorder.calls}
    dead = {(x["partition"], x["offset"]) for x in letters}
    assert processed | dead == delivered and not processed & dead  # each record exactly once
    raw_by_coords = {
        (r["partition"], r["offset"]): r for recs in event["records"].values() for r in recs
    }
    reasons = sorted(x["reason"] for x in letters)
    for prefix in POISON:
        assert sum(r.startswith(prefix) for r in reasons) == 1, (prefix, reasons)
    for letter in letters:  # the full payload, exactly as received
        raw = raw_by_coords[(letter["partition"], letter["offset"])]
        assert letter["value"] == raw.get("value")
        assert letter["key"] == raw.get("key") and letter["headers"] == raw["headers"]
    for partition in (0, 1):  # per-partition processing order = offset order
        offsets = [m.offset for _, m in recorder.calls if m.partition == partition]
        assert offsets == sorted(offsets)


@pytest.mark.parametrize("event", [{}, {"records": {}}, {"records": None}, {"eventSource": "x"}])
def test_missing_or_empty_records_is_a_logged_no_op(
    event, dead_letter_aws, lambda_context, consumer_logs
):
    recorder = Recorder()
    handler = build_handler(sink=dead_letter_aws.sink(), process_fn=recorder)

    assert handler(event, lambda_context) == {"processed": 0, "dead_lettered": 0}

    assert recorder.calls == []
    assert "no records in event; nothing to do" in consumer_logs.messages()


def test_retryable_error_fails_the_invocation_after_poison_is_stored(
    msk_event, dead_letter_aws, lambda_context
):
    _, value = api_value("Carol")
    event = msk_event([consumer_record(b"\xff", offset=0), consumer_record(value, offset=1)])

    def flaky(event: dict, meta: RecordMeta) -> None:
        raise RetryableError("downstream busy")

    handler = build_handler(sink=dead_letter_aws.sink(), process_fn=flaky)
    with pytest.raises(RetryableError):
        handler(event, lambda_context)
    assert [x["offset"] for x in stored_letters(dead_letter_aws)] == [0]

    # The mapping redelivers the same batch: SQS holds the poison record's letter twice, under
    # one letter id, so replay (its ledger keyed by that id) publishes it once.
    recorder = Recorder()
    build_handler(sink=dead_letter_aws.sink(), process_fn=recorder)(
        event, lambda_context
    )
    assert [m.offset for _, m in recorder.calls] == [1]
    first, again = stored_letters(dead_letter_aws)
    assert first["offset"] == again["offset"] == 0 and first["letter_id"] == again["letter_id"]


def test_non_retryable_process_error_also_fails_the_invocation(msk_event, dead_letter_aws):
    _, value = api_value()

    def broken(event: dict, meta: RecordMeta) -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        handle_batch(
            msk_event([consumer_record(value)]), dead_letter_aws.sink(), broken
        )


def test_dead_letter_store_failure_fails_the_invocation_before_processing(
    msk_event, dead_letter_aws, lambda_context
):
    from event_consumer.sqs_sink import SqsDeadLetterSink

    # A queue the server does not have: its real QueueDoesNotExist answer.
    store = SqsDeadLetterSink(f"{dead_letter_aws.queue_url}-gone", dead_letter_aws.bucket,
                              sqs=dead_letter_aws.sqs, s3=dead_letter_aws.s3)
    _, value = api_value()
    recorder = Recorder()
    handler = build_handler(sink=store, process_fn=recorder)

    with pytest.raises(DeadLetterError, match="SQS SendMessageBatch failed"):
        handler(msk_event([consumer_record(b"\x00poison"), consumer_record(value, offset=1)]),
                lambda_context)
    assert recorder.calls == []  # nothing processed, so the retry has no duplicate side effects


def test_metrics_are_emitted_as_emf(msk_event, dead_letter_aws, lambda_context, capsys):
    _, v1 = api_value("a", clock=1_000.0)
    _, v2 = api_value("b", clock=1_000.0)
    event = msk_event([consumer_record(v1), consumer_record(v2, offset=1),
                       consumer_record(b"nope", offset=2)])
    handler = build_handler(sink=dead_letter_aws.sink(), process_fn=Recorder())

    handler(event, lambda_context)

    blobs = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x]
    assert len(blobs) == 1
    blob = blobs[0]
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "EventPipeline"
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "RecordsProcessed": "Count",
        "RecordsDeadLettered": "Count",
        "EndToEndLagMs": "Milliseconds",
    }
    assert blob["RecordsProcessed"] == [2.0]
    assert blob["RecordsDeadLettered"] == [1.0]
    # One value per batch (per-record metric calls cost more than the decode): the oldest event.
    [lag] = blob["EndToEndLagMs"]
    assert lag > 1_000_000_000  # created at t=1000 s
