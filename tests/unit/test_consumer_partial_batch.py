"""Issue 13 point 9: with REPORT_BATCH_ITEM_FAILURES=true the handler answers a retryable failure
with the Kafka partial batch response; otherwise it fails the invocation."""

from __future__ import annotations

import pytest
from event_api.events import build_event, to_record
from event_consumer.errors import ConfigError, RetryableError
from event_consumer.handler import build_handler, report_failures_from_env

from tests.fixtures.consumer import consumer_record


def api_record(name: str, partition: int, offset: int):
    return consumer_record(to_record(build_event(name)).value, partition=partition, offset=offset)


class FailOn:
    """process(): fails (retryably) for the given names, remembers what it processed."""

    def __init__(self, *names: str) -> None:
        self.names = set(names)
        self.done: list[tuple[int, int]] = []

    def __call__(self, event, meta) -> None:
        if event["name"] in self.names:
            raise RetryableError(f"{event['name']} not now")
        self.done.append((meta.partition, meta.offset))


@pytest.fixture
def batch(msk_event):
    # partition 0: offsets 0..3, "Bad" at 1; partition 1: offsets 0..2, all fine; partition 2:
    # poison at 0, "Bad" at 2.
    return msk_event([
        api_record("a", 0, 0), api_record("Bad", 0, 1), api_record("c", 0, 2),
        api_record("d", 0, 3), api_record("e", 1, 0), api_record("f", 1, 1),
        api_record("g", 1, 2), consumer_record(b"\xff", partition=2, offset=0),
        api_record("h", 2, 1), api_record("Bad", 2, 2), api_record("i", 2, 3),
    ])


def test_report_mode_names_the_first_failed_record_of_each_partition(
    batch, dead_letter_aws, lambda_context
):
    process = FailOn("Bad")
    handler = build_handler(sink=dead_letter_aws.sink(), process_fn=process,
                            report_failures=True)

    response = handler(batch, lambda_context)

    # The Kafka shape: the "<topic>-<partition>" key of the event and the offset to resume from.
    assert sorted(response["batchItemFailures"], key=lambda f: f["itemIdentifier"]["partition"]) \
        == [{"itemIdentifier": {"partition": "events-0", "offset": 1}},
            {"itemIdentifier": {"partition": "events-2", "offset": 2}}]
    # Records after a failure in its partition are redelivered, so they were not processed now;
    # the other partitions went on; the poison record was dead-lettered, not reported.
    assert process.done == [(0, 0), (1, 0), (1, 1), (1, 2), (2, 1)]
    assert [body["offset"] for body in dead_letter_aws.letters()] == [0]


def test_report_mode_with_no_failure_returns_an_empty_list(batch, dead_letter_aws, lambda_context):
    handler = build_handler(sink=dead_letter_aws.sink(),
                            process_fn=FailOn(), report_failures=True)
    assert handler(batch, lambda_context) == {"batchItemFailures": []}


def test_without_report_mode_a_retryable_failure_fails_the_invocation(
    batch, dead_letter_aws, lambda_context
):
    handler = build_handler(sink=dead_letter_aws.sink(),
                            process_fn=FailOn("Bad"), report_failures=False)
    with pytest.raises(RetryableError):
        handler(batch, lambda_context)


def test_report_mode_still_fails_the_invocation_on_a_bug(batch, dead_letter_aws, lambda_context):
    def buggy(event, meta):
        raise KeyError("bug")

    handler = build_handler(sink=dead_letter_aws.sink(), process_fn=buggy,
                            report_failures=True)
    with pytest.raises(KeyError):
        handler(batch, lambda_context)


def test_the_mode_comes_from_the_environment(batch, dead_letter_aws, lambda_context, monkeypatch):
    monkeypatch.setenv("REPORT_BATCH_ITEM_FAILURES", "true")
    handler = build_handler(sink=dead_letter_aws.sink(),
                            process_fn=FailOn("Bad"))
    assert len(handler(batch, lambda_context)["batchItemFailures"]) == 2


@pytest.mark.parametrize(("text", "expected"), [("", False), ("false", False), ("true", True),
                                                 (" TRUE ", True)])
def test_report_setting_values(text, expected):
    assert report_failures_from_env({"REPORT_BATCH_ITEM_FAILURES": text}) is expected


def test_a_bad_report_setting_is_a_clear_error():
    with pytest.raises(ConfigError, match="REPORT_BATCH_ITEM_FAILURES must be true or false"):
        report_failures_from_env({"REPORT_BATCH_ITEM_FAILURES": "yes"})
