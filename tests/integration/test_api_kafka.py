"""The real server process (`python -m event_api`) against the real local broker over
SASL_SSL + OAUTHBEARER (MSK IAM tokens checked by the broker's validator)."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from kafka import KafkaAdminClient

from tests.fixtures.kafka import read_events

pytestmark = pytest.mark.integration

SEND_TIMEOUT_MS = 2000


def get(base_url: str, path: str, timeout: float = 10.0) -> httpx.Response:
    return httpx.get(base_url + path, timeout=timeout)


def wait_for_status(base_url: str, path: str, status: int, timeout_s: float) -> float:
    started = time.monotonic()
    last = None
    while time.monotonic() - started < timeout_s:
        try:
            last = get(base_url, path).status_code
            if last == status:
                return time.monotonic() - started
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise AssertionError(f"{path} never answered {status} in {timeout_s}s (last: {last})")


def test_acknowledged_event_is_in_kafka_with_key_headers_and_payload(
    kafka_broker, kafka_topic, api_server
):
    server = api_server(kafka_broker.client_env("api"), topic=kafka_topic)
    wait_for_status(server.base_url, "/readyz", 200, timeout_s=60)

    response = get(server.base_url, "/current_time?name=Ada-Lovelace_1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"timestamp", "message"}
    assert body["message"] == "Hello, Ada-Lovelace_1!"
    event_id = response.headers["x-event-id"]

    found = read_events(kafka_broker.plaintext_bootstrap, kafka_topic, {event_id})
    assert event_id in found, "acknowledged event not found in the topic"
    message = found[event_id]
    assert message.key == b"Ada-Lovelace_1"
    headers = dict(message.headers)
    assert headers["event_id"] == event_id.encode()
    assert headers["content-type"] == b"application/json"
    payload = json.loads(message.value.decode("utf-8"))
    assert payload == {"event_id": event_id, "timestamp": body["timestamp"],
                       "message": body["message"], "name": "Ada-Lovelace_1"}
    assert uuid.UUID(event_id).version == 7

    log = server.log_text()
    access = [json.loads(line) for line in log.splitlines()
              if line.startswith("{") and '"event_api.access"' in line]
    assert any(a.get("event_id") == event_id and a["status"] == 200 and a["latency_ms"] > 0
               for a in access)


def test_concurrent_requests_for_one_name_land_in_one_partition_in_order(
    kafka_broker, kafka_topic, api_server
):
    server = api_server(kafka_broker.client_env("api"), topic=kafka_topic)
    wait_for_status(server.base_url, "/readyz", 200, timeout_s=60)
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(
            lambda i: get(server.base_url, f"/current_time?name={'Bob' if i % 2 else 'Eve'}"),
            range(40)))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    ids = {r.headers["x-event-id"] for r in responses}
    found = read_events(kafka_broker.plaintext_bootstrap, kafka_topic, ids)
    assert ids <= set(found)
    for name in (b"Bob", b"Eve"):
        assert len({m.partition for m in found.values() if m.key == name}) == 1


def test_a_missing_topic_is_waited_for_never_created_and_readyz_says_so(kafka_broker,
                                                                        api_server):
    topic = f"api-awaited-{uuid.uuid4().hex[:8]}"
    kafka_broker.grant(topic)  # the program's API policy names its topic before it exists
    server = api_server(kafka_broker.client_env("api"), topic=topic)
    deadline = time.monotonic() + 30
    detail = ""
    while "does not exist" not in detail and time.monotonic() < deadline:
        response = get(server.base_url, "/readyz")
        assert response.status_code == 503
        detail = response.json()["detail"]
        time.sleep(0.5)
    assert f"topic {topic!r} does not exist yet" in detail and "never creates" in detail
    assert get(server.base_url, "/current_time?name=Ada").status_code == 503
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.plaintext_bootstrap,
                             request_timeout_ms=10000)
    try:
        assert topic not in admin.list_topics()  # the API created nothing
    finally:
        admin.close()

    kafka_broker.create_topic(topic, partitions=2)  # what the deploy-time provisioner does
    wait_for_status(server.base_url, "/readyz", 200, timeout_s=60)
    assert get(server.base_url, "/current_time?name=Ada").status_code == 200


def test_wrong_credentials_make_readyz_name_the_authentication_failure(kafka_broker,
                                                                      kafka_topic, api_server):
    env = {**kafka_broker.client_env("api"), "AWS_SECRET_ACCESS_KEY": "not-the-broker-s-secret-key"}
    # One worker: /readyz and the request below must read the same worker's state. Each worker
    # connects on its own, and a worker whose first attempt saw only the broker hanging up (not
    # yet the rejection) still says "cannot connect" (a clean-clone CI run met exactly that).
    server = api_server(env, topic=kafka_topic, workers=1)
    deadline = time.monotonic() + 45
    detail = ""
    while "authentication" not in detail and time.monotonic() < deadline:
        response = get(server.base_url, "/readyz")
        assert response.status_code == 503
        detail = response.json()["detail"]
        time.sleep(0.5)
    assert "Kafka rejected the authentication" in detail, detail
    assert "SaslAuthenticationFailedError" in detail and "KafkaTimeoutError" not in detail
    # Requests say the same, not a bare timeout.
    response = get(server.base_url, "/current_time?name=Ada", timeout=15)
    assert response.status_code == 503 and "authentication" in response.json()["detail"]


def test_broker_outage_gives_bounded_503_and_the_service_recovers_by_itself(
    kafka_broker, kafka_topic, api_server
):
    env = {**kafka_broker.client_env("api"), "KAFKA_SEND_TIMEOUT_MS": str(SEND_TIMEOUT_MS)}
    server = api_server(env, topic=kafka_topic)
    wait_for_status(server.base_url, "/readyz", 200, timeout_s=60)
    assert get(server.base_url, "/current_time?name=Ada").status_code == 200

    kafka_broker.stop()
    try:
        bound_s = SEND_TIMEOUT_MS / 1000 + 2
        for _ in range(4):  # several requests, so both workers are exercised
            started = time.monotonic()
            response = get(server.base_url, "/current_time?name=Ada", timeout=30)
            elapsed = time.monotonic() - started
            assert response.status_code == 503, response.text
            assert elapsed < bound_s, f"503 took {elapsed:.1f}s (bound {bound_s}s)"
            assert int(response.headers["retry-after"]) > 0
            assert "x-event-id" not in response.headers
            assert "Hello" not in response.text
        assert get(server.base_url, "/healthcheck").status_code == 200  # liveness unaffected
        wait_for_status(server.base_url, "/readyz", 503, timeout_s=30)
    finally:
        kafka_broker.start()

    # Recovery without restarting the service: every worker must succeed again.
    wait_for_status(server.base_url, "/readyz", 200, timeout_s=90)
    deadline = time.monotonic() + 90
    streak, ids = 0, set()
    while streak < 6 and time.monotonic() < deadline:
        response = get(server.base_url, "/current_time?name=Ada", timeout=30)
        if response.status_code == 200:
            streak += 1
            ids.add(response.headers["x-event-id"])
        else:
            streak = 0
            time.sleep(0.5)
    assert streak >= 6, "service did not recover after the broker came back"
    assert ids <= set(read_events(kafka_broker.plaintext_bootstrap, kafka_topic, ids))


def test_sigterm_exits_0_promptly_and_acknowledged_events_are_in_the_topic(
    kafka_broker, kafka_topic, api_server
):
    server = api_server(kafka_broker.client_env("api"), topic=kafka_topic)
    wait_for_status(server.base_url, "/readyz", 200, timeout_s=60)
    response = get(server.base_url, "/current_time?name=Ada")
    assert response.status_code == 200
    acked = {response.headers["x-event-id"]}

    # Requests still in flight when SIGTERM arrives must either be acknowledged (and then be
    # in Kafka) or fail; never a 200 for an event that is missing.
    with ThreadPoolExecutor(8) as pool:
        def call(_):
            try:
                return get(server.base_url, "/current_time?name=Bob", timeout=25)
            except httpx.HTTPError:
                return None

        futures = [pool.submit(call, i) for i in range(16)]
        time.sleep(0.05)
        started = time.monotonic()
        exit_code = server.terminate(timeout_s=25)
        stop_s = time.monotonic() - started
        results = [f.result() for f in futures]
    assert exit_code == 0, server.log_text()[-3000:]
    assert stop_s < 20, f"shutdown took {stop_s:.1f}s"
    acked |= {r.headers["x-event-id"] for r in results if r is not None and r.status_code == 200}

    found = read_events(kafka_broker.plaintext_bootstrap, kafka_topic, acked)
    assert acked <= set(found), f"acknowledged but missing: {acked - set(found)}"
    assert "Kafka producer flushed and closed" in server.log_text()


def test_sigterm_with_the_broker_down_answers_every_waiting_request_503_without_errors(
    kafka_broker, kafka_topic, api_server
):
    """Requests waiting for a broker that is gone when SIGTERM arrives get their real answer
    (503) before the graceful period ends: never a cancelled 500, never an ERROR from the
    service, the server or asyncio (kafka-python's own connection errors are expected)."""
    send_timeout_ms = 12_000  # longer than uvicorn's old fixed 10 s graceful period
    env = {**kafka_broker.client_env("api"), "KAFKA_SEND_TIMEOUT_MS": str(send_timeout_ms)}
    server = api_server(env, topic=kafka_topic)
    wait_for_status(server.base_url, "/readyz", 200, timeout_s=60)
    assert get(server.base_url, "/current_time?name=Ada").status_code == 200
    kafka_broker.stop()
    try:
        with ThreadPoolExecutor(6) as pool:
            def call(_):
                try:
                    return get(server.base_url, "/current_time?name=Bob", timeout=40).status_code
                except httpx.HTTPError as exc:
                    return type(exc).__name__

            waiting = [pool.submit(call, i) for i in range(6)]
            time.sleep(1.0)
            exit_code = server.terminate(timeout_s=40)
            statuses = [f.result() for f in waiting]
    finally:
        kafka_broker.start()
    assert exit_code == 0
    assert statuses == [503] * 6, statuses
    lines = [json.loads(line) for line in server.log_text().splitlines()
             if line.startswith("{")]
    assert lines, "the server wrote no JSON log lines"
    bad = [line for line in lines
           if (line["level"] == "ERROR" and not line["logger"].startswith("kafka."))
           or "never retrieved" in line["message"] or "exception" in line]
    assert bad == [], bad[:3]
