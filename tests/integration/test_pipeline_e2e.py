"""End to end on loopback: the real API process -> local broker (MSK IAM auth) -> local event
source mapping -> Lambda handler; and a dead letter replayed back into the pipeline."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from dead_letter_format import letter_kind
from event_consumer.errors import PoisonRecordError
from event_consumer.handler import build_handler
from event_consumer.process import RecordMeta
from event_consumer.records import decode_event

from tests.fixtures.consumer import start_esm_cli, wait_until

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]


def _ready_api(api_server, kafka_broker, topic):
    server = api_server(kafka_broker.client_env("api"), topic=topic)
    assert server.wait_ready(60), "API not ready (connected to Kafka) in 60 s"
    return server


def _call(server, name: str) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/current_time", params={"name": name}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json() | {"event_id": response.headers["x-event-id"], "name": name}


def test_api_events_are_processed_by_the_local_mapping_cli(
    kafka_broker, kafka_topic, api_server, dead_letter_aws, tmp_path
):
    server = _ready_api(api_server, kafka_broker, kafka_topic)
    sent = [_call(server, f"visitor{i % 4}") for i in range(20)]

    proc, log = start_esm_cli(kafka_broker, dead_letter_aws, kafka_topic, tmp_path, "e2e-cli",
                              0.2)
    try:
        def processed() -> dict[str, dict]:
            lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
            return {x["event_id"]: x for x in lines if x.get("message") == "event processed"}

        seen = wait_until(lambda: (p := processed()) and len(p) >= 20 and p, 90,
                          "20 API events processed by the handler")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert set(seen) == {e["event_id"] for e in sent}
    assert all(x["topic"] == kafka_topic and x["end_to_end_lag_ms"] >= 0 for x in seen.values())
    assert dead_letter_aws.peek() == []


def test_api_event_dead_lettered_then_replayed_is_processed_identically(
    kafka_broker, kafka_topic, api_server, esm_runner, dead_letter_aws, tmp_path
):
    server = _ready_api(api_server, kafka_broker, kafka_topic)
    strict = {"on": True}  # consumer "v1" rejected names with a digit; "v2" accepts them

    def decode(record):
        event = decode_event(record)
        if strict["on"] and any(c.isdigit() for c in event["name"]):
            raise PoisonRecordError("schema: digits in name (consumer v1)")
        return event

    calls: list[tuple[dict, RecordMeta]] = []
    lock = threading.Lock()

    def process(event: dict, meta: RecordMeta) -> None:
        with lock:
            calls.append((event, meta))

    esm_runner(kafka_topic, build_handler(sink=dead_letter_aws.sink(), process_fn=process,
                                          decode=decode))
    plain = _call(server, "Grace")
    digits = _call(server, "R2D2")

    wait_until(lambda: len(calls) == 1 and dead_letter_aws.letters(), 60,
               "one event processed and one dead-lettered")
    [letter] = dead_letter_aws.letters()
    assert json.loads(base64.b64decode(letter["value"])) == digits  # the API's bytes, kept whole
    assert calls[0][0] == plain

    strict["on"] = False
    env = {**os.environ, **kafka_broker.client_env("admin"), **dead_letter_aws.aws.client_env(),
           "KAFKA_TOPIC": kafka_topic}
    replay = subprocess.run(
        [sys.executable, "-m", "event_replay", "--from", f"sqs:{dead_letter_aws.queue_url}",
         "--ledger", str(tmp_path / "ledger"), "--limit", "5"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert replay.returncode == 0, replay.stderr

    wait_until(lambda: len(calls) == 2, 60, "the replayed event processed")
    event, meta = calls[1]
    assert event == digits  # identical to what the API answered and wrote
    assert dict(meta.headers)["event_id"] == digits["event_id"].encode()
    assert dead_letter_aws.peek() == []


def test_the_mixed_queue_round_trip_processes_every_event_once(
    kafka_broker, kafka_topic, api_server, esm_runner, dead_letter_aws, tmp_path
):
    """The deployed shape, locally: handler letters and the mapping's on-failure records in one
    SQS queue; after the fix, one replay brings every event back, each processed exactly once."""
    from event_consumer.errors import RetryableError

    server = _ready_api(api_server, kafka_broker, kafka_topic)
    broken = {"on": True}  # a downstream outage for one customer, fixed later
    calls: list[str] = []
    lock = threading.Lock()

    def process(event: dict, meta: RecordMeta) -> None:
        if broken["on"] and event["name"].startswith("Later"):
            raise RetryableError("downstream down")
        with lock:
            calls.append(event["event_id"])

    def decode(record):  # consumer v1 rejects digits in names; v2 (after the fix) accepts them
        event = decode_event(record)
        if broken["on"] and any(c.isdigit() for c in event["name"]):
            raise PoisonRecordError("schema: digits in name (consumer v1)")
        return event

    esm = esm_runner(kafka_topic, build_handler(process_fn=process, decode=decode,
                                                report_failures=True),
                     report_batch_item_failures=True, max_retry_attempts=1,
                     on_failure=f"sqs:{dead_letter_aws.queue_url}")
    sent = [_call(server, name) for name in ("Ada", "R2D2", "LaterBob", "Cy", "LaterDee")]
    wait_until(lambda: sum(committed_offsets_of(kafka_broker, esm)) == 5, 90,
               "every record committed: processed, dead-lettered or handed to the queue")
    kinds = sorted(letter_kind(b) for b in dead_letter_aws.peek())
    assert "letter" in kinds and "batch-info" in kinds  # the mixed queue

    broken["on"] = False  # the fix is deployed; now replay
    env = {**os.environ, **kafka_broker.client_env("admin"), **dead_letter_aws.aws.client_env(),
           "KAFKA_TOPIC": kafka_topic}
    replay = subprocess.run(
        [sys.executable, "-m", "event_replay", "--from", f"sqs:{dead_letter_aws.queue_url}",
         "--ledger", str(tmp_path / "ledger.sqlite")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert replay.returncode == 0, replay.stderr + replay.stdout

    wait_until(lambda: set(calls) == {e["event_id"] for e in sent}, 90,
               "every acknowledged event processed after the replay")
    assert sorted(calls) == sorted(e["event_id"] for e in sent)  # each exactly once
    assert dead_letter_aws.drain() == []


def committed_offsets_of(broker, esm) -> list[int]:
    from tests.fixtures.consumer import committed_offsets

    return list(committed_offsets(broker, esm.settings.group_id).values())
