"""Fault test: the broker stops for several seconds while clients are sending events.

Every request the API answered 2xx must later reach the consumer's `process` (at least once,
counted by event id through the local event source mapping and the real Lambda handler);
requests during the outage must get a bounded 503 with Retry-After, never hang.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import httpx
import pytest
from event_consumer.handler import build_handler

from local.esm import EsmSettings, LocalEventSourceMapping

pytestmark = pytest.mark.integration

SEND_TIMEOUT_MS = 2000
CLIENTS = 8
OUTAGE_S = 6.0
AFTER_RESTART_S = 10.0  # keep sending after the broker is back: the API must recover by itself
# A request may wait for the send timeout, plus metadata/connection time; anything near the
# client's own 15 s timeout would be a hang.
MAX_ANSWER_S = SEND_TIMEOUT_MS / 1000 + 3.0


@dataclass(frozen=True)
class Answer:
    status: int
    event_id: str | None
    elapsed_s: float
    retry_after: str | None
    sent_at: float


def _client_loop(base_url: str, stop: threading.Event, answers: list[Answer], lock, n: int):
    with httpx.Client(base_url=base_url, timeout=15.0) as client:
        i = 0
        while not stop.is_set():
            i += 1
            sent_at = time.monotonic()
            try:
                response = client.get("/current_time", params={"name": f"c{n}x{i % 20}"})
                answer = Answer(response.status_code, response.headers.get("x-event-id"),
                                time.monotonic() - sent_at, response.headers.get("retry-after"),
                                sent_at)
            except httpx.HTTPError:
                answer = Answer(-1, None, time.monotonic() - sent_at, None, sent_at)
            with lock:
                answers.append(answer)
            time.sleep(0.02)


def test_broker_restart_under_load_loses_no_acknowledged_event(
    kafka_broker, kafka_topic, api_server, dead_letter_aws, monkeypatch
):
    for name, value in kafka_broker.client_env("consumer").items():
        monkeypatch.setenv(name, value)  # the in-process mapping signs its own MSK IAM tokens
    consumed: Counter[str] = Counter()
    consumed_lock = threading.Lock()

    def record(event, meta):
        with consumed_lock:
            consumed[event["event_id"]] += 1

    group = f"fault-{uuid.uuid4().hex[:8]}"
    kafka_broker.grant(kafka_topic, group)  # the program's consumer policy for this group
    esm = LocalEventSourceMapping(
        EsmSettings(bootstrap_servers=kafka_broker.sasl_bootstrap, topics=(kafka_topic,),
                    group_id=group, region=kafka_broker.region,
                    ca_file=str(kafka_broker.ca_file), batching_window_s=0.2,
                    max_retry_attempts=-1, on_failure=f"sqs:{dead_letter_aws.queue_url}"),
        handler=build_handler(sink=dead_letter_aws.sink(), process_fn=record),
    ).start()
    assert esm.wait_ready(90), esm.error
    server = api_server({**kafka_broker.client_env("api"),
                         "KAFKA_SEND_TIMEOUT_MS": str(SEND_TIMEOUT_MS)}, topic=kafka_topic)
    assert server.wait_ready(60), server.log_text()[-3000:]

    answers: list[Answer] = []
    lock = threading.Lock()
    stop = threading.Event()
    clients = [threading.Thread(target=_client_loop,
                                args=(server.base_url, stop, answers, lock, n))
               for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    try:
        time.sleep(5.0)
        outage_start = time.monotonic()
        kafka_broker.stop()
        time.sleep(OUTAGE_S)
    finally:
        if not kafka_broker.is_running():
            kafka_broker.start()
    outage_end = time.monotonic()  # the broker accepts connections again
    time.sleep(AFTER_RESTART_S)
    stop.set()
    for thread in clients:
        thread.join(30)

    acked = [a.event_id for a in answers if a.status == 200]
    refused = [a for a in answers if a.status != 200]
    # The load really spanned the outage: writes before it, refusals during it, writes after.
    assert any(a.status == 200 and a.sent_at < outage_start for a in answers)
    # (seconds since the broker came back, status) -> count: shows recovery when it fails.
    timeline = sorted(Counter((round(a.sent_at - outage_end), a.status) for a in answers).items())
    assert any(a.status == 200 and a.sent_at > outage_end for a in answers), timeline
    assert refused, "the outage produced no refusals: the broker did not really stop?"
    assert {a.status for a in refused} == {503}, Counter(a.status for a in refused)
    assert all(a.retry_after for a in refused)
    slowest = max(a.elapsed_s for a in answers)
    assert slowest < MAX_ANSWER_S, f"a request took {slowest:.1f}s: that is a hang"
    assert len(set(acked)) == len(acked), "an event id was reused"

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with consumed_lock:
            missing = [e for e in acked if consumed[e] == 0]
        if not missing:
            break
        time.sleep(0.5)
    esm.stop()
    assert esm.error is None, esm.error
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged events never consumed"
    print(f"{len(acked)} acknowledged, {len(refused)} refused with 503 during a "
          f"{OUTAGE_S:.0f}s outage; slowest answer {slowest:.2f}s; "
          f"{sum(consumed[e] > 1 for e in acked)} consumed more than once")
