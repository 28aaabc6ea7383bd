"""Property-based fuzzing of the real server against its own served OpenAPI document.

Schemathesis generates valid (positive) and invalid (negative) requests for every documented
operation and checks each response: no 5xx, status codes, content types, headers and bodies as
documented, invalid input rejected, valid input accepted. The server runs with a live broker so
`/current_time` really writes (a Kafka outage answering 503 is covered by the fault tests).

Schemathesis's pytest plugin does not support pytest 9 yet, so the operations are driven through
its Python API with Hypothesis directly.
"""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from tests.fixtures.api_server import launch_api_server

pytestmark = pytest.mark.integration

# Up to 1,000 examples per operation and mode: a few thousand generated requests per run.
EXAMPLES = 1000


@pytest.fixture(scope="module")
def fuzzed_server(kafka_broker, tmp_path_factory):
    topic = f"fuzz-{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic)
    server = launch_api_server(kafka_broker.client_env("api"), tmp_path_factory.mktemp("fuzz"),
                               topic=topic)
    assert server.wait_ready(60), server.log_text()[-3000:]
    yield server
    server.stop()


def _operations(base_url: str):
    schema = schemathesis.openapi.from_url(base_url + "/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_the_document_describes_every_route(fuzzed_server):
    paths = {op.path for op in _operations(fuzzed_server.base_url)}
    assert {"/healthcheck", "/readyz", "/hello", "/current_time"} <= paths


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=lambda m: m.value)
def test_no_server_errors_and_responses_match_the_document(fuzzed_server, mode):
    calls = []
    for operation in _operations(fuzzed_server.base_url):
        if mode is GenerationMode.NEGATIVE and not operation.query:
            continue  # nothing to make invalid in a request without parameters

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            response = case.call_and_validate(timeout=10)
            assert response.status_code < 500, response.text
            calls.append(response.status_code)

        fuzz()
    # A broken strategy would generate nothing: demand a few hundred real requests per mode.
    assert len(calls) >= EXAMPLES // 2, calls
    print(f"{mode.value}: {len(calls)} requests, statuses {sorted(set(calls))}")
    assert fuzzed_server.process.poll() is None, "the server died under fuzzing"


def _end_offsets(kafka_broker, topic: str) -> dict:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=kafka_broker.plaintext_bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return consumer.end_offsets(partitions)
    finally:
        consumer.close()


def test_undocumented_methods_and_slash_variants_write_nothing_and_never_redirect(
    fuzzed_server, kafka_broker
):
    """Issues 15.7 and 15.8 against the real server: every documented path, every method the
    document does not list, and its trailing-slash variant with a hostile Host header."""
    import httpx

    topic = fuzzed_server.env["KAFKA_TOPIC"]
    before = _end_offsets(kafka_broker, topic)
    paths = {op.path for op in _operations(fuzzed_server.base_url)}
    with httpx.Client(base_url=fuzzed_server.base_url, timeout=10) as client:
        for path in sorted(paths):
            target = path + ("?name=Ada" if path == "/current_time" else "")
            for method in ("HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
                response = client.request(method, target)
                assert response.status_code == 405, (method, path)
                assert response.headers["allow"] == "GET"
            slash = path + "/" + target[len(path):]
            response = client.get(slash, headers={"Host": "evil.example"})
            assert response.status_code == 404 and "location" not in response.headers
    assert _end_offsets(kafka_broker, topic) == before
