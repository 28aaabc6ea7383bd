"""The local event source mapping on the real local broker (SASL_SSL + MSK IAM auth)."""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from event_api.events import build_event, to_record
from event_consumer.errors import RetryableError
from event_consumer.handler import build_handler
from event_consumer.process import RecordMeta

from local.esm.on_failure import open_destination
from tests.fixtures.consumer import (
    committed_offsets,
    end_offsets,
    produce,
    start_esm_cli,
    wait_until,
)

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    """process(): remembers every event and where it came from (thread-safe)."""

    def __init__(self, fail_for: set[str] | None = None) -> None:
        self.calls: list[tuple[dict[str, Any], RecordMeta]] = []
        self.fail_for = fail_for or set()
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], meta: RecordMeta) -> None:
        if event["name"] in self.fail_for:
            raise RetryableError(f"cannot handle {event['name']} yet")
        with self.lock:
            self.calls.append((event, meta))

    def count(self) -> int:
        with self.lock:
            return len(self.calls)


def api_messages(names: list[str], partition: int | None = None) -> list[dict[str, Any]]:
    """Kafka messages built by the API's own code (value, key, headers)."""
    out = []
    for name in names:
        record = to_record(build_event(name))
        message = {"key": record.key, "value": record.value, "headers": record.headers}
        if partition is not None:
            message["partition"] = partition
        out.append(message)
    return out


def test_events_reach_the_handler_identical_in_order_and_offsets_are_committed(
    kafka_broker, kafka_topic, esm_runner, dead_letter_aws, tmp_path
):
    names = [f"user{i % 7}" for i in range(60)]
    messages = api_messages(names)
    produced = produce(kafka_broker, kafka_topic, messages)
    recorder = Recorder()
    batches: list[int] = []

    def handler(event: dict, context: Any) -> Any:
        assert event["eventSource"] == "aws:kafka"
        batches.append(sum(len(v) for v in event["records"].values()))
        return inner(event, context)

    inner = build_handler(sink=dead_letter_aws.sink(), process_fn=recorder)
    esm = esm_runner(kafka_topic, handler, batch_size=10)

    wait_until(lambda: recorder.count() >= 60, 60, "60 events processed")
    wait_until(
        lambda: committed_offsets(kafka_broker, esm.settings.group_id)
        == end_offsets(kafka_broker, kafka_topic),
        30, "offsets committed up to the end of every partition",
    )

    sent = {(m.partition, m.offset): msg for m, msg in zip(produced, messages, strict=True)}
    assert len(recorder.calls) == 60 and max(batches) <= 10
    for event, meta in recorder.calls:
        original = sent[(meta.partition, meta.offset)]
        assert json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() == (
            original["value"]
        )
        assert base64.b64decode(meta.key) == original["key"]
        assert meta.headers == original["headers"]
    for partition in {m.partition for m in produced}:
        offsets = [m.offset for _, m in recorder.calls if m.partition == partition]
        assert offsets == sorted(offsets) == list(range(len(offsets)))


def test_a_failing_batch_is_not_committed_and_is_redelivered(
    kafka_broker, kafka_topic, esm_runner, dead_letter_aws, tmp_path
):
    produce(kafka_broker, kafka_topic, api_messages(["Ann", "Ben", "Cid"], partition=0))
    failing = Recorder(fail_for={"Ann", "Ben", "Cid"})
    sink = dead_letter_aws.sink()
    group = f"redelivery-{kafka_topic}"
    esm = esm_runner(kafka_topic, build_handler(sink=sink, process_fn=failing),
                     max_retry_attempts=-1, group_id=group)

    wait_until(lambda: esm.invocations >= 3, 30, "three failed invocations")
    assert committed_offsets(kafka_broker, group) == {}
    esm.stop()
    assert committed_offsets(kafka_broker, group) == {}  # stopping mid-retry: no commit

    healthy = Recorder()
    esm_runner(kafka_topic, build_handler(sink=sink, process_fn=healthy), group_id=group)
    wait_until(lambda: healthy.count() == 3, 30, "the same batch redelivered")
    assert [(e["name"], m.offset) for e, m in healthy.calls] == [("Ann", 0), ("Ben", 1), ("Cid", 2)]
    wait_until(lambda: committed_offsets(kafka_broker, group).get((kafka_topic, 0)) == 3,
               30, "commit after success")


def test_retry_limit_writes_the_aws_on_failure_record_and_moves_on(
    kafka_broker, kafka_topic, esm_runner, dead_letter_aws, tmp_path
):
    produce(kafka_broker, kafka_topic, api_messages(["Boom", "Boom", "Boom"], partition=1))
    recorder = Recorder(fail_for={"Boom"})
    esm = esm_runner(  # on-failure records go to the dead-letter queue, as deployed
        kafka_topic,
        build_handler(sink=dead_letter_aws.sink(), process_fn=recorder),
        max_retry_attempts=2, batching_window_s=1.0,
    )

    [record] = wait_until(lambda: open_destination(esm.settings.on_failure).read_all(), 30,
                          "an on-failure record")
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3  # 1 + 2 retries
    assert record["requestContext"]["functionArn"] == esm.settings.function_arn
    assert record["responseContext"]["functionError"] == "Unhandled"
    info = record["KafkaBatchInfo"]
    assert info["batchSize"] == 3 and info["eventSourceArn"] == esm.settings.event_source_arn
    assert info["recordsInfo"] == {
        f"{kafka_topic}-1": {
            "firstRecordOffset": "0", "lastRecordOffset": "2",
            "firstRecordTimestamp": info["recordsInfo"][f"{kafka_topic}-1"]["firstRecordTimestamp"],
            "lastRecordTimestamp": info["recordsInfo"][f"{kafka_topic}-1"]["lastRecordTimestamp"],
        }
    }
    # Moved on: the partition is not blocked and later records are processed.
    produce(kafka_broker, kafka_topic, api_messages(["Dora"], partition=1))
    wait_until(lambda: recorder.count() == 1, 30, "the next record processed")
    assert recorder.calls[0][1].offset == 3
    wait_until(lambda: committed_offsets(kafka_broker, esm.settings.group_id).get(
        (kafka_topic, 1)) == 4, 30, "offsets committed past the failed batch")


def test_an_on_failure_destination_outage_stalls_the_mapping_and_loses_nothing(
    kafka_broker, kafka_topic, esm_runner, dead_letter_aws, local_aws
):
    """The destination is down (its queue deleted) when the retries run out: the mapping keeps
    the batch uncommitted and retries the write with backoff instead of dying; once the queue
    is back the record is written once and the mapping moves on."""
    recorder = Recorder(fail_for={"Boom"})
    name = f"outage-{uuid.uuid4().hex[:12]}"  # SQS names: letters, digits, - and _
    queue_url = local_aws.create_queue(name)
    destination = f"sqs:{queue_url}"
    esm = esm_runner(
        kafka_topic, build_handler(sink=dead_letter_aws.sink(), process_fn=recorder),
        max_retry_attempts=0, batching_window_s=0.2, on_failure=destination)
    dead_letter_aws.sqs.delete_queue(QueueUrl=queue_url)  # down after the mapping started
    produce(kafka_broker, kafka_topic, api_messages(["Boom"], partition=0))

    wait_until(lambda: "on-failure destination unavailable" in (
        esm.last_processing_result or ""), 30, "the outage reported")
    assert committed_offsets(kafka_broker, esm.settings.group_id).get((kafka_topic, 0)) is None
    assert local_aws.create_queue(name) == queue_url  # the destination is back
    wait_until(lambda: committed_offsets(kafka_broker, esm.settings.group_id).get(
        (kafka_topic, 0)) == 1, 30, "offsets committed once the record is stored")
    assert len(open_destination(destination).read_all()) == 1
    assert esm.error is None and esm.last_processing_result is None


def test_poison_record_dead_letter_replay_processed(
    kafka_broker, kafka_topic, esm_runner, dead_letter_aws, tmp_path
):
    from event_consumer.errors import PoisonRecordError
    from event_consumer.records import decode_event

    # Consumer "v1" had a stricter rule (names of at most 5 characters); v2 is the current schema.
    strict = {"on": True}

    def decode(record):
        event = decode_event(record)
        if strict["on"] and len(event["name"]) > 5:
            raise PoisonRecordError("schema: name longer than 5 (consumer v1)")
        return event

    recorder = Recorder()
    handler = build_handler(sink=dead_letter_aws.sink(), process_fn=recorder, decode=decode)
    [long_name] = api_messages(["Bartholomew"], partition=2)
    garbage = bytes([0xFF, 0x00, 0xC3]) + os.urandom(16)
    produce(kafka_broker, kafka_topic, [long_name, {"value": garbage, "partition": 2,
                                                    "headers": [("x-src", b"fuzz")]}])
    esm_runner(kafka_topic, handler)
    wait_until(lambda: len(dead_letter_aws.letters()) == 2, 30, "two dead letters")
    assert recorder.count() == 0
    before = dead_letter_aws.letters()
    assert base64.b64decode(before[0]["value"]) == long_name["value"]
    assert base64.b64decode(before[1]["value"]) == garbage
    assert before[1]["headers"] == [{"x-src": list(b"fuzz")}]

    env = {**os.environ, **kafka_broker.client_env("admin"), **dead_letter_aws.aws.client_env(),
           "KAFKA_TOPIC": kafka_topic}
    # --limit 2: the two letters above; the garbage's new letter (it stays poison) is for later.
    replay_args = [sys.executable, "-m", "event_replay", "--from",
                   f"sqs:{dead_letter_aws.queue_url}", "--ledger", str(tmp_path / "ledger"),
                   "--limit", "2"]
    dry = subprocess.run(
        [*replay_args, "--dry-run"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout.splitlines()[-1])["summary"]["replayed"] == 2
    assert dead_letter_aws.letters() == before  # dry run changes nothing

    strict["on"] = False  # consumer v2 deployed; now replay
    replay = subprocess.run(
        replay_args,
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert replay.returncode == 0, replay.stderr
    assert json.loads(replay.stdout.splitlines()[-1])["summary"] == {
        "replayed": 2, "already_replayed": 0, "in_doubt": 0, "failed": 0, "deleted": 2, "kept": 0
    }

    wait_until(lambda: recorder.count() == 1, 30, "the replayed event processed")
    event, meta = recorder.calls[0]
    originals = {(x["partition"], x["offset"]) for x in before}
    assert event["name"] == "Bartholomew"
    assert (meta.partition, meta.offset) not in originals  # re-published: a new record
    assert meta.headers == long_name["headers"] and base64.b64decode(meta.key) == b"Bartholomew"
    # The garbage was re-published byte for byte, and is dead-lettered again (still poison).
    after = wait_until(
        lambda: [x for x in dead_letter_aws.letters()
                 if (x["partition"], x["offset"]) not in originals],
        30, "the replayed garbage dead-lettered again",
    )
    assert base64.b64decode(after[0]["value"]) == garbage
    assert after[0]["headers"] == before[1]["headers"]
    assert len(dead_letter_aws.letters()) == 1  # replayed originals were deleted after Kafka's ack


def test_poison_under_load_never_stalls_a_partition(
    kafka_broker, kafka_topic, esm_runner, dead_letter_aws, tmp_path
):
    rng = random.Random(6)
    total = 3000
    poison_at = set(rng.sample(range(total), 300))
    messages = []
    for i in range(total):
        if i in poison_at:
            messages.append({"value": b"\xfe" + rng.randbytes(40), "partition": i % 3})
        else:
            messages.append(api_messages([f"load{i % 50}"], partition=i % 3)[0])
    produce(kafka_broker, kafka_topic, messages)
    recorder = Recorder()
    esm = esm_runner(
        kafka_topic,
        build_handler(sink=dead_letter_aws.sink(), process_fn=recorder),
        batch_size=500, max_retry_attempts=0,
    )

    wait_until(
        lambda: committed_offsets(kafka_broker, esm.settings.group_id)
        == end_offsets(kafka_broker, kafka_topic),
        120, "every partition committed to its end",
    )
    letters = dead_letter_aws.letters()
    assert recorder.count() == total - len(poison_at)
    assert len(letters) == len(poison_at)
    sent_poison = sorted(messages[i]["value"] for i in poison_at)
    assert sorted(base64.b64decode(x["value"]) for x in letters) == sent_poison
    assert open_destination(esm.settings.on_failure).read_all() == []  # no batch ever failed


def test_cli_runs_the_handler_and_stops_cleanly_on_sigterm(kafka_broker, kafka_topic,
                                                           dead_letter_aws, tmp_path):
    produce(kafka_broker, kafka_topic, api_messages(["Eve", "Fay"]))
    proc, log = start_esm_cli(kafka_broker, dead_letter_aws, kafka_topic, tmp_path, "cli", 0.1)
    try:
        wait_until(lambda: log.read_text().count('"event processed"') == 2, 60,
                   "two events processed by the CLI")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    committed = committed_offsets(kafka_broker, "cli")
    assert sum(committed.values()) == 2
    assert "local event source mapping stopped" in log.read_text()


class FlakyAt:
    """process(): a retryable failure for one name, the first `times` attempts (or always)."""

    def __init__(self, name: str, times: int | None) -> None:
        self.name, self.times, self.failures = name, times, 0
        self.calls: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], meta: RecordMeta) -> None:
        with self.lock:
            if event["name"] == self.name and (self.times is None or self.failures < self.times):
                self.failures += 1
                raise RetryableError(f"{self.name} not yet")
            self.calls.append((event["name"], meta.offset))


def test_partial_batch_response_retries_only_from_the_failed_record(
    kafka_broker, kafka_topic, esm_runner, dead_letter_aws, tmp_path
):
    produce(kafka_broker, kafka_topic, api_messages(["A", "B", "Flaky", "D", "E"], partition=0))
    process = FlakyAt("Flaky", times=2)
    handler = build_handler(sink=dead_letter_aws.sink(), process_fn=process,
                            report_failures=True)
    esm = esm_runner(kafka_topic, handler, batching_window_s=1.0, max_retry_attempts=5,
                     report_batch_item_failures=True)

    wait_until(lambda: committed_offsets(kafka_broker, esm.settings.group_id).get(
        (kafka_topic, 0)) == 5, 60, "partition 0 committed to its end")
    # A and B are not processed again on the retries: the mapping resumed at "Flaky".
    assert process.calls == [("A", 0), ("B", 1), ("Flaky", 2), ("D", 3), ("E", 4)]
    assert esm.invocations == 3


def test_exhausted_partial_failures_go_to_the_dead_letter_queue_as_batch_info(
    kafka_broker, kafka_topic, esm_runner, dead_letter_aws, tmp_path
):
    produce(kafka_broker, kafka_topic, api_messages(["A", "B", "Stuck", "D"], partition=2))
    process = FlakyAt("Stuck", times=None)
    handler = build_handler(process_fn=process, report_failures=True)  # SQS + S3 sink
    esm = esm_runner(kafka_topic, handler, batching_window_s=1.0, max_retry_attempts=1,
                     report_batch_item_failures=True,
                     on_failure=f"sqs:{dead_letter_aws.queue_url}")

    wait_until(lambda: committed_offsets(kafka_broker, esm.settings.group_id).get(
        (kafka_topic, 2)) == 4, 60, "partition 2 committed past the records given up on")
    [record] = dead_letter_aws.drain()
    # Only what was still failing is named: from "Stuck" (offset 2) to the end of the batch.
    info = record["KafkaBatchInfo"]["recordsInfo"][f"{kafka_topic}-2"]
    assert (info["firstRecordOffset"], info["lastRecordOffset"]) == ("2", "3")
    assert record["KafkaBatchInfo"]["batchSize"] == 2
    assert process.calls == [("A", 0), ("B", 1)]
