"""The replay tool's parts that need no broker: the durable ledger, the SQS source on the local
SQS server (redelivery inside a run), and the expansion of each kind of message."""

from __future__ import annotations

import json

import pytest
from dead_letter_format import MskRecord, dead_letter
from event_replay import sources
from event_replay.expand import batch_ranges, expand, from_letter
from event_replay.ledger import DONE, PENDING, Ledger
from event_replay.sources import SqsSource, StoredMessage


def test_the_ledger_survives_the_process_and_keeps_the_two_states(tmp_path):
    ledger = Ledger(str(tmp_path / "l.sqlite"))
    ledger.mark_pending(["a", "b", "c"])
    ledger.mark_done(["a"])
    ledger.clear_pending(["b", "a"])  # clearing never touches a done record
    ledger.close()

    reopened = Ledger(str(tmp_path / "l.sqlite"))
    assert reopened.states(["a", "b", "c", "d"]) == {"a": DONE, "c": PENDING}


def test_a_message_redelivered_inside_a_run_is_read_once(dead_letter_aws, monkeypatch):
    # A visibility timeout of 0 s ("The minimum is 0 seconds. The maximum is 12 hours.", SQS's
    # ChangeMessageVisibility, https://docs.aws.amazon.com/sdkfornet/v3/apidocs/items/SQS/
    # TChangeMessageVisibilityRequest.html): it has passed at once, while the run still goes on,
    # and the next receive returns the message again.
    monkeypatch.setattr(sources, "SQS_VISIBILITY_S", 0)
    dead_letter_aws.sqs.send_message(QueueUrl=dead_letter_aws.queue_url, MessageBody="{}")
    source = SqsSource(dead_letter_aws.queue_url)
    batches = source.batches(None)

    [first] = next(batches)
    # It comes back, but this run already has it: the run ends (next(), not list(): a source
    # that read it again would read it forever).
    assert next(batches, "ended") == "ended"
    source.release([first])
    assert len(dead_letter_aws.drain()) == 1  # kept, and visible again for the next run


def message(body) -> StoredMessage:
    return StoredMessage("h", "m1", body, json.dumps(body))


def test_a_tombstone_letter_is_kept_and_never_published():
    m = message({"letter_id": "x" * 64, "topic": "t", "partition": 0, "offset": 1,
                 "value": None, "key": None, "headers": []})
    assert from_letter(m.body, m) == []
    assert m.kept and "null value" in m.kept[0]


@pytest.mark.parametrize("broken", [{"value": "!!!"}, {"key": 5}, {"headers": [["a", [1]]]},
                                    {"headers": [{"a": [300]}]}, {"topic": None}])
def test_a_letter_whose_bytes_cannot_be_rebuilt_is_kept(broken):
    body = {"letter_id": "x" * 64, "topic": "t", "partition": 0, "offset": 1, "key": None,
            "value": "AA==", "headers": []} | broken
    m = message(body)
    assert from_letter(body, m) == [] and m.kept


def test_unknown_messages_are_kept_with_a_reason():
    for body in (None, {"hello": 1}, [1, 2]):
        m = message(body)
        assert expand(m, s3=None, reader=None) == [] and m.kept


def test_batch_info_ranges_split_topic_names_with_dashes():
    info = {"recordsInfo": {"my-topic-name-12": {"firstRecordOffset": "5",
                                                 "lastRecordOffset": "9"}}}
    assert batch_ranges(info) == [("my-topic-name", 12, 5, 9)]


@pytest.mark.parametrize("records_info", [
    {},  # names nothing to re-read
    {"t-0": {"firstRecordOffset": "2", "lastRecordOffset": "0"}},
    {"t-0": {"firstRecordOffset": "-1", "lastRecordOffset": "3"}},
    {"t-0": {"firstRecordOffset": "1e3", "lastRecordOffset": "2000"}},
    {"t-x": {"firstRecordOffset": "0", "lastRecordOffset": "0"}},
    {"t-0": ["0", "1"]},
])
def test_batch_info_naming_no_valid_range_is_refused(records_info):
    with pytest.raises(ValueError):
        batch_ranges({"recordsInfo": records_info})
    m = message({"KafkaBatchInfo": {"recordsInfo": records_info}})
    assert expand(m, s3=None, reader=None) == [] and "KafkaBatchInfo refused" in m.kept[0]


def handler_letter(**raw) -> dict:
    record = {"topic": "t", "partition": 0, "offset": 1, "timestamp": 5, "key": "Qm9i",
              "value": "e30=", "headers": [{"h": [1, 2]}]} | raw
    return dead_letter(MskRecord(record, "t-0"), "schema: test")


def test_a_letter_id_is_recomputed_from_the_bytes_never_taken_from_the_message():
    genuine = handler_letter()
    m = message(genuine)
    [item] = from_letter(genuine, m)
    assert item.record_id == genuine["letter_id"] and not m.kept
    assert (item.key, item.value, item.headers) == (b"Bob", b"{}", [("h", b"\x01\x02")])

    for claimed in (handler_letter(value="e30K")["letter_id"], 5, ["x"], None):
        m = message(genuine | {"letter_id": claimed})
        assert from_letter(m.body, m) == [] and "does not match its bytes" in m.kept[0]


def test_a_letter_without_usable_coordinates_is_kept():
    letter = handler_letter(offset="not an offset")
    m = message(letter)
    assert from_letter(letter, m) == [] and "cannot be checked" in m.kept[0]
