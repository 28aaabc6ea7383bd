"""The chaos run's accounting: every acknowledged event is processed, dead-lettered with its
payload (a handler letter, or an on-failure record whose offsets name it in the topic), or LOST."""

from __future__ import annotations

import base64
import json
from collections import Counter

import pytest

from bench._chaos_ledger import account
from bench._chaos_letters import Letter
from bench.chaos import main

TOPIC = "events"


def _value(event_id: str) -> bytes:
    return json.dumps({"event_id": event_id, "name": "x"}).encode()


def _handler_letter(value: bytes) -> Letter:
    return Letter("letter", {"letter_id": "l", "value": base64.b64encode(value).decode()}, 0.0)


def _on_failure(partition: int, first: int, last: int, topic: str = TOPIC) -> Letter:
    info = {f"{topic}-{partition}": {"firstRecordOffset": str(first),
                                     "lastRecordOffset": str(last)}}
    return Letter("batch-info", {"KafkaBatchInfo": {"recordsInfo": info}}, 0.0)


def test_each_acknowledged_event_is_processed_dead_lettered_or_lost():
    log = {(0, 0): _value("a"), (0, 1): _value("b"), (0, 2): _value("c"), (1, 0): _value("d"),
           (1, 1): b"poison, not JSON"}
    result = account(
        acked={"a", "b", "c", "d", "e"},
        poison={b"poison, not JSON", b"poison never seen"},
        processed=Counter({"a": 2, "b": 1}),
        letters=[_on_failure(0, 1, 2), _handler_letter(b"poison, not JSON")],
        topic=TOPIC, log=log)
    assert (result.acknowledged, result.processed, result.dead_lettered) == (5, 2, 1)
    # "c" is named by the on-failure record's offsets; "d" is in the topic but nowhere else;
    # "e" is not even in the topic.
    assert result.lost == ["d", "e"] and result.lost_not_in_topic == 1
    assert (result.duplicates, result.extra_deliveries) == (1, 1)
    assert result.processed_and_dead_lettered == 1  # "b": finished, then in a failed batch
    assert (result.poison_sent, result.poison_dead_lettered) == (2, 1)
    assert result.letters == Counter({"batch-info": 1, "letter": 1})


def test_an_on_failure_record_of_another_topic_dead_letters_nothing_here():
    log = {(0, 0): _value("a")}
    result = account(acked={"a"}, poison=set(), processed=Counter(),
                     letters=[_on_failure(0, 0, 0, topic="other")], topic=TOPIC, log=log)
    assert result.lost == ["a"]


def test_the_chaos_command_refuses_bad_input_with_one_line(capsys):
    for args, message in ((["--minutes", "0"], "--minutes must be in (0, 120], got 0.0"),
                          (["--clients", "0"], "--clients must be 1-64, got 0"),
                          (["--pause", "-1"], "--pause must be 0-10 s, got -1.0")):
        with pytest.raises(SystemExit) as exited:
            main(args)
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
