"""Issue 13 point 3: replay exactly once per record from the mixed dead-letter queue.

Real parts only: the local Kafka broker (SASL_SSL + MSK IAM), the local SQS/S3 server (moto's
server mode) for the queue and the bucket, the handler's own SQS + S3 sink writing the letters,
the local event source mapping's own on-failure record shape, and `python -m event_replay` run
as an operator runs it. (Needs the broker, so it is an integration test.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dead_letter_format import letter_kind
from event_api.events import build_event, to_record
from event_consumer.handler import build_handler
from event_replay.ledger import Ledger
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from local.esm import EsmSettings, build_msk_event, on_failure_record
from tests.fixtures.consumer import EXAMPLE_ARN, EXAMPLE_BOOTSTRAP, produce

REPO_ROOT = Path(__file__).resolve().parents[2]


def read_topic(broker, topic: str, partitions: tuple[int, ...] = (0, 1, 2)) -> list:
    """Every record of the topic: partition 0 first (the originals), then the others (replay
    publishes by key, like the API, so a keyed record may land in another partition)."""
    consumer = KafkaConsumer(bootstrap_servers=broker.plaintext_bootstrap, group_id=None,
                             enable_auto_commit=False, request_timeout_ms=15_000)
    records = []
    try:
        for partition in partitions:
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            consumer.seek_to_beginning(tp)
            end = consumer.end_offsets([tp])[tp]
            while consumer.position(tp) < end:
                for batch in consumer.poll(timeout_ms=1000).values():
                    records.extend(batch)
        return records
    finally:
        consumer.close()


def api_message(name: str) -> dict:
    record = to_record(build_event(name))
    return {"key": record.key, "value": record.value, "headers": record.headers, "partition": 0}


def run_replay(broker, aws, topic: str, ledger: Path, *extra: str):
    # One set of AWS credentials for everything, as an operator has: the broker's local ones
    # sign the MSK IAM token; the local SQS/S3 server accepts any.
    env = {**os.environ, **broker.client_env("admin"), **aws.aws.client_env(), "KAFKA_TOPIC": topic}
    result = subprocess.run(
        [sys.executable, "-m", "event_replay", "--from", f"sqs:{aws.queue_url}",
         "--ledger", str(ledger), *extra],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    return result, lines


@pytest.fixture
def mixed_queue(kafka_broker, kafka_topic, dead_letter_aws, lambda_context):
    """The queue as production fills it: the handler's letters (one large enough for S3) and the
    mapping's metadata-only on-failure record for a failed batch."""
    # A failed batch: three good events the handler could not process (offsets 0..2).
    failed = produce(kafka_broker, kafka_topic, [api_message(n) for n in ("Ann", "Ben", "Cid")])
    # Poison the handler reads back: small garbage and a 300 KB blob (offsets 3 and 4).
    produce(kafka_broker, kafka_topic, [
        {"value": b"\xff\x00garbage", "partition": 0, "headers": [("x-src", b"fuzz")]},
        {"value": b"\xfe" + b"B" * 300_000, "partition": 0, "key": b"big"},
    ])
    records = read_topic(kafka_broker, kafka_topic, (0,))
    handler = build_handler(process_fn=lambda e, m: None, report_failures=False)
    handler(json.loads(json.dumps(build_msk_event(records[3:], EXAMPLE_ARN, EXAMPLE_BOOTSTRAP))),
            lambda_context)
    settings = EsmSettings(bootstrap_servers=kafka_broker.sasl_bootstrap, topics=(kafka_topic,),
                           region=kafka_broker.region)
    batch_info = on_failure_record(records[:3], settings, invoke_count=4, payload_size=1000)
    dead_letter_aws.sqs.send_message(QueueUrl=dead_letter_aws.queue_url,
                                     MessageBody=json.dumps(batch_info))
    assert [m.offset for m in failed] == [0, 1, 2]
    return records


def queue_kinds(aws) -> list[str]:
    bodies = aws.drain()
    for body in bodies:  # put them back: draining was only to look
        aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=json.dumps(body))
    return sorted(letter_kind(b) for b in bodies)


def test_mixed_queue_is_replayed_byte_for_byte_then_deleted(
    kafka_broker, kafka_topic, dead_letter_aws, mixed_queue, tmp_path
):
    assert queue_kinds(dead_letter_aws) == ["batch-info", "letter", "pointer"]
    pointer_keys = [o["Key"] for o in dead_letter_aws.s3.list_objects_v2(
        Bucket=dead_letter_aws.bucket).get("Contents", [])]
    assert len(pointer_keys) == 1

    result, lines = run_replay(kafka_broker, dead_letter_aws, kafka_topic, tmp_path / "l.sqlite")

    assert result.returncode == 0, result.stderr + result.stdout
    assert lines[-1]["summary"] | {} == {"replayed": 5, "already_replayed": 0, "in_doubt": 0,
                                         "failed": 0, "deleted": 3, "kept": 0}
    after = read_topic(kafka_broker, kafka_topic)
    originals, replayed = after[:5], after[5:]
    def fingerprint(r):
        return repr((r.key, r.value, r.headers))

    assert sorted(map(fingerprint, replayed)) == sorted(map(fingerprint, originals))  # once each
    assert dead_letter_aws.drain() == []
    assert dead_letter_aws.s3.list_objects_v2(Bucket=dead_letter_aws.bucket).get("KeyCount") == 0


def test_a_second_run_and_duplicate_messages_publish_nothing_again(
    kafka_broker, kafka_topic, dead_letter_aws, mixed_queue, tmp_path
):
    ledger = tmp_path / "l.sqlite"
    bodies = dead_letter_aws.drain()
    for body in bodies + bodies:  # every message twice: SQS at-least-once, a handler retry
        dead_letter_aws.sqs.send_message(QueueUrl=dead_letter_aws.queue_url,
                                         MessageBody=json.dumps(body))

    first, lines = run_replay(kafka_broker, dead_letter_aws, kafka_topic, ledger)
    assert first.returncode == 0, first.stderr
    assert lines[-1]["summary"]["replayed"] == 5 and lines[-1]["summary"]["deleted"] == 6
    assert len(read_topic(kafka_broker, kafka_topic)) == 10

    # The same letters arrive again (e.g. an operator re-drove an old copy): nothing republished.
    for body in bodies:
        if letter_kind(body) != "pointer":  # its S3 payload was deleted after the replay
            dead_letter_aws.sqs.send_message(QueueUrl=dead_letter_aws.queue_url,
                                             MessageBody=json.dumps(body))
    second, lines = run_replay(kafka_broker, dead_letter_aws, kafka_topic, ledger)
    assert second.returncode == 0, second.stderr
    assert lines[-1]["summary"]["replayed"] == 0
    assert lines[-1]["summary"]["already_replayed"] == 4
    assert len(read_topic(kafka_broker, kafka_topic)) == 10
    assert dead_letter_aws.drain() == []


def test_a_poison_record_in_both_a_letter_and_a_failed_batch_is_published_once(
    kafka_broker, kafka_topic, dead_letter_aws, mixed_queue, tmp_path
):
    # The mapping also gave up on the batch holding the two poison records (offsets 3..4).
    settings = EsmSettings(bootstrap_servers=kafka_broker.sasl_bootstrap, topics=(kafka_topic,),
                           region=kafka_broker.region)
    dead_letter_aws.sqs.send_message(QueueUrl=dead_letter_aws.queue_url, MessageBody=json.dumps(
        on_failure_record(mixed_queue[3:5], settings, invoke_count=1, payload_size=1)))

    result, lines = run_replay(kafka_broker, dead_letter_aws, kafka_topic, tmp_path / "l.sqlite")

    assert result.returncode == 0, result.stderr
    assert len(read_topic(kafka_broker, kafka_topic)) == 10  # 5 originals + 5, not 7


def test_records_in_doubt_are_not_published_until_the_operator_says_so(
    kafka_broker, kafka_topic, dead_letter_aws, mixed_queue, tmp_path
):
    ledger_path = tmp_path / "l.sqlite"
    letters = [b for b in dead_letter_aws.drain() if letter_kind(b) == "letter"]
    for body in letters:
        dead_letter_aws.sqs.send_message(QueueUrl=dead_letter_aws.queue_url,
                                         MessageBody=json.dumps(body))
    ledger = Ledger(str(ledger_path))
    ledger.mark_pending([letters[0]["letter_id"]])  # a run died between "pending" and the ack
    ledger.close()

    held, lines = run_replay(kafka_broker, dead_letter_aws, kafka_topic, ledger_path)
    assert held.returncode == 1
    assert lines[-1]["summary"]["in_doubt"] == 1 and lines[-1]["summary"]["kept"] == 1
    assert any("in doubt" in r for x in lines if x.get("action") == "kept" for r in x["reasons"])
    assert len(read_topic(kafka_broker, kafka_topic)) == 5  # nothing published

    # Kept messages are visible again at the end of a run: the operator checked the topic.
    retried, lines = run_replay(kafka_broker, dead_letter_aws, kafka_topic, ledger_path,
                                "--retry-in-doubt")
    assert retried.returncode == 0, retried.stderr
    assert lines[-1]["summary"]["replayed"] == 1
    assert len(read_topic(kafka_broker, kafka_topic)) == 6
    assert dead_letter_aws.drain() == []


def test_offsets_lost_to_retention_are_kept_with_a_clear_report(
    kafka_broker, kafka_topic, dead_letter_aws, mixed_queue, tmp_path
):
    batch_info = next(b for b in dead_letter_aws.drain() if letter_kind(b) == "batch-info")
    dead_letter_aws.sqs.send_message(QueueUrl=dead_letter_aws.queue_url,
                                     MessageBody=json.dumps(batch_info))
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.plaintext_bootstrap)
    try:  # retention took offsets 0 and 1
        admin.delete_records({TopicPartition(kafka_topic, 0): 2})
    finally:
        admin.close()

    result, lines = run_replay(kafka_broker, dead_letter_aws, kafka_topic, tmp_path / "l.sqlite")

    assert result.returncode == 1
    [kept] = [x for x in lines if x.get("action") == "kept"]
    assert any("offsets 0..1 are no longer in the topic" in r for r in kept["reasons"])
    assert lines[-1]["summary"]["replayed"] == 1  # offset 2 is still there: replayed
    assert len(dead_letter_aws.drain()) == 1  # the on-failure record stays in the queue
