"""Replay against a hostile dead-letter queue: whatever one message holds, replay keeps it (never
deletes what it did not replay), says which message and why in one line, and goes on with the
rest; a ledger it cannot write stops it before anything is published, hiding nothing.

Real parts only: the local Kafka broker (SASL_SSL + MSK IAM), the local SQS/S3 server, letters
written by the consumer's own `dead_letter`, the local mapping's on-failure record shape, and
`python -m event_replay` run as an operator runs it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dead_letter_format import MskRecord, dead_letter
from event_replay.ledger import Ledger
from kafka import KafkaConsumer, TopicPartition

from local.esm import EsmSettings, on_failure_record
from tests.fixtures.consumer import produce

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]


def read_topic(broker, topic: str) -> list:
    consumer = KafkaConsumer(bootstrap_servers=broker.plaintext_bootstrap, group_id=None,
                             enable_auto_commit=False, request_timeout_ms=15_000)
    records = []
    try:
        for partition in (0, 1, 2):
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


def run_replay(broker, aws, topic: str, ledger: Path, *extra: str):
    env = {**os.environ, **broker.client_env("admin"), **aws.aws.client_env(), "KAFKA_TOPIC": topic}
    result = subprocess.run(
        [sys.executable, "-m", "event_replay", "--from", f"sqs:{aws.queue_url}",
         "--ledger", str(ledger), *extra],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    return result, lines


def letter(topic: str, offset: int, value: bytes, key: bytes = b"k") -> dict:
    """A letter exactly as the handler writes it (the consumer's own `dead_letter`)."""
    raw = {"topic": topic, "partition": 0, "offset": offset,
           "timestamp": 1_700_000_000_000 + offset, "timestampType": "CREATE_TIME",
           "key": base64.b64encode(key).decode(),
           "value": base64.b64encode(value).decode(), "headers": [{"x-src": list(b"test")}]}
    return dead_letter(MskRecord(raw, f"{topic}-0"), "schema: test")


def send(aws, body) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    return aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=text)["MessageId"]


def pointer_to(aws, data: bytes, letter_id, key: str) -> dict:
    """A pointer whose size and sha256 match the object: only its content is hostile."""
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=data)
    return {"letter_id": letter_id, "reason": "r", "topic": None, "partition": 0, "offset": 0,
            "s3": {"bucket": aws.bucket, "key": key, "bytes": len(data),
                   "sha256": hashlib.sha256(data).hexdigest()}}


def kept_lines(lines: list[dict]) -> dict[str, list[str]]:
    return {x["message"]: x["reasons"] for x in lines if x.get("action") == "kept"}


def replayed_values(broker, topic: str) -> list[bytes]:
    return sorted(r.value for r in read_topic(broker, topic))


def test_one_bad_message_is_kept_and_the_rest_of_its_batch_is_replayed(
    kafka_broker, kafka_topic, dead_letter_aws, tmp_path
):
    aws = dead_letter_aws
    good = [letter(kafka_topic, 0, b'{"n": 0}'), letter(kafka_topic, 1, b'{"n": 1}'),
            # a letter (its bytes inside) with a stray "s3" field: replayed, and no S3 delete
            letter(kafka_topic, 9, b'{"n": 9}') | {"s3": "not a location"}]
    for body in good:
        send(aws, body)
    real_id = good[0]["letter_id"]
    hostile = {
        "S3 object not JSON": send(aws, pointer_to(aws, b"not json", real_id, "dead-letters/a")),
        "S3 object a JSON list": send(aws, pointer_to(aws, b"[1, 2]", real_id, "dead-letters/b")),
        "S3 object nested too deep": send(aws, pointer_to(
            aws, b"[" * 100_000 + b"]" * 100_000, real_id, "dead-letters/c")),
        "pointer without a bucket": send(aws, {"letter_id": real_id, "s3": {"key": "x"}}),
        "letter_id a number": send(aws, letter(kafka_topic, 2, b"{}") | {"letter_id": 12345}),
        "letter_id a list": send(aws, letter(kafka_topic, 3, b"{}") | {"letter_id": ["x"]}),
        "header value not a byte list": send(aws, letter(kafka_topic, 4, b"{}") | {
            "headers": [{"h": 5}]}),
        "letter itself a list": send(aws, "[1, 2, 3]"),
    }

    result, lines = run_replay(kafka_broker, aws, kafka_topic, tmp_path / "l.sqlite")

    assert result.returncode == 1, result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    summary = lines[-1]["summary"]
    assert (summary["replayed"], summary["deleted"], summary["kept"]) == (3, 3, len(hostile)), \
        result.stderr + result.stdout
    kept = kept_lines(lines)
    assert set(kept) == set(hostile.values())
    assert all(reasons and all(isinstance(r, str) and r for r in reasons)
               for reasons in kept.values())
    assert replayed_values(kafka_broker, kafka_topic) == [b'{"n": 0}', b'{"n": 1}', b'{"n": 9}']
    # Kept messages are visible again right away: nothing hidden for the visibility timeout.
    assert len(aws.drain()) == len(hostile)


def test_a_ledger_that_cannot_be_written_stops_before_publishing_and_hides_nothing(
    kafka_broker, kafka_topic, dead_letter_aws, tmp_path
):
    for body in (letter(kafka_topic, 0, b'{"n": 0}'), letter(kafka_topic, 1, b'{"n": 1}')):
        send(dead_letter_aws, body)
    ledger = tmp_path / "l.sqlite"
    Ledger(str(ledger)).close()

    with read_only(ledger):
        result, lines = run_replay(kafka_broker, dead_letter_aws, kafka_topic, ledger)

    assert result.returncode != 0
    problem = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(problem) == 1 and "ledger" in problem[0] and str(ledger) in problem[0], \
        result.stderr
    assert read_topic(kafka_broker, kafka_topic) == []  # never published without recording
    assert len(dead_letter_aws.drain()) == 2  # and nothing hidden for the visibility timeout


class read_only:  # noqa: N801 - a context manager, used like a function
    """Make the ledger file unwritable, even for root (the tests may run as root)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.immutable = os.geteuid() == 0

    def __enter__(self) -> None:
        if not self.immutable:
            self.path.chmod(0o444)
            return
        if not shutil.which("chattr"):
            pytest.skip("running as root without chattr: cannot make a file read-only")
        done = subprocess.run(["chattr", "+i", str(self.path)], capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"chattr +i is not supported here: {done.stderr.strip()}")

    def __exit__(self, *_) -> None:
        if self.immutable:
            subprocess.run(["chattr", "-i", str(self.path)], check=True)
        else:
            self.path.chmod(0o644)


def test_two_letters_claiming_one_id_replay_only_the_one_whose_bytes_match(
    kafka_broker, kafka_topic, dead_letter_aws, tmp_path
):
    genuine = letter(kafka_topic, 0, b'{"n": "genuine"}')
    impostor = letter(kafka_topic, 0, b'{"n": "impostor"}') | {"letter_id": genuine["letter_id"]}
    stored = letter(kafka_topic, 1, b'{"n": "in s3"}')
    send(dead_letter_aws, genuine)
    impostor_id = send(dead_letter_aws, impostor)
    # A pointer naming another id than the letter its object holds.
    mismatch_id = send(dead_letter_aws, pointer_to(
        dead_letter_aws, json.dumps(stored).encode(), genuine["letter_id"], "dead-letters/p"))

    result, lines = run_replay(kafka_broker, dead_letter_aws, kafka_topic, tmp_path / "l.sqlite")

    assert result.returncode == 1, result.stderr + result.stdout
    summary = lines[-1]["summary"]
    assert (summary["replayed"], summary["deleted"], summary["kept"]) == (1, 1, 2), result.stdout
    kept = kept_lines(lines)
    assert set(kept) == {impostor_id, mismatch_id}
    assert all("does not match" in " ".join(reasons) for reasons in kept.values()), kept
    assert replayed_values(kafka_broker, kafka_topic) == [b'{"n": "genuine"}']
    left = dead_letter_aws.drain()
    assert sorted(json.dumps(b, sort_keys=True) for b in left if "s3" not in b) == \
        [json.dumps(impostor, sort_keys=True)]
    assert dead_letter_aws.object("dead-letters/p")  # the pointer's object is kept too


def test_an_on_failure_record_naming_no_valid_range_is_kept(
    kafka_broker, kafka_topic, dead_letter_aws, tmp_path
):
    produce(kafka_broker, kafka_topic, [{"value": b'{"n": %d}' % i, "partition": 0}
                                        for i in range(3)])
    records = [r for r in read_topic(kafka_broker, kafka_topic)]
    settings = EsmSettings(bootstrap_servers=kafka_broker.sasl_bootstrap, topics=(kafka_topic,),
                           region=kafka_broker.region)
    record = on_failure_record(records, settings, invoke_count=4, payload_size=10)
    name = f"{kafka_topic}-0"
    inverted = json.loads(json.dumps(record))
    inverted["KafkaBatchInfo"]["recordsInfo"][name] |= {"firstRecordOffset": "2",
                                                         "lastRecordOffset": "0"}
    negative = json.loads(json.dumps(record))
    negative["KafkaBatchInfo"]["recordsInfo"][name] |= {"firstRecordOffset": "-3",
                                                        "lastRecordOffset": "-1"}
    empty = json.loads(json.dumps(record))
    empty["KafkaBatchInfo"]["recordsInfo"] = {}
    ids = {send(dead_letter_aws, body) for body in (inverted, negative, empty)}

    result, lines = run_replay(kafka_broker, dead_letter_aws, kafka_topic, tmp_path / "l.sqlite")

    assert result.returncode == 1, result.stderr + result.stdout
    summary = lines[-1]["summary"]
    assert (summary["replayed"], summary["deleted"], summary["kept"]) == (0, 0, 3), result.stdout
    assert set(kept_lines(lines)) == ids
    assert len(read_topic(kafka_broker, kafka_topic)) == 3  # the originals only
    assert len(dead_letter_aws.drain()) == 3
