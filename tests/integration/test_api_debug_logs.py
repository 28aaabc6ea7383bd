"""Issue 15.3: the API run with LOG_LEVEL=DEBUG against the real broker (SASL_SSL + MSK IAM)
writes no credential, signature or token, although botocore and kafka-python log signing and
the SASL exchange at that level."""

from __future__ import annotations

import json
import re

import httpx
import pytest

pytestmark = pytest.mark.integration

SESSION_TOKEN = "IQoJb3JpZ2luX2VjEdebugLogTest/session+token=="
# SHA-256 of an empty payload: botocore hashes the (empty) body of the presigned request; it is
# a constant, not a secret.
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_a_debug_run_writes_no_secret(kafka_broker, kafka_topic, api_server):
    env = {**kafka_broker.client_env("api"), "LOG_LEVEL": "DEBUG",
           "AWS_SESSION_TOKEN": SESSION_TOKEN}
    server = api_server(env, topic=kafka_topic, workers=1)
    assert server.wait_ready(60), server.log_text()[-3000:]
    for _ in range(3):
        response = httpx.get(server.base_url + "/current_time?name=Ada", timeout=10)
        assert response.status_code == 200
    assert server.terminate() == 0
    log = server.log_text()

    # The run really logged at DEBUG, from the libraries that handle signing material.
    debug_from = {line["logger"].split(".")[0] for line in (json.loads(text) for text in
                  log.splitlines() if text.startswith("{"))
                  if line["level"] == "DEBUG"}
    assert {"botocore", "kafka"} <= debug_from
    assert "[REDACTED]" in log  # something was there to redact

    secret_key = kafka_broker.client_env("api")["AWS_SECRET_ACCESS_KEY"]
    assert secret_key not in log
    assert SESSION_TOKEN not in log and "IQoJb3JpZ2luX2VjEdebugLogTest" not in log
    assert "aHR0cHM6Ly9rYWZrYS" not in log  # base64url of "https://kafka" (the token)
    assert not re.search(r"X-Amz-Signature=(?!\[REDACTED\])", log)
    assert not re.search(r"X-Amz-Security-Token=(?!\[REDACTED\])", log)
    assert not re.search(r"^(CanonicalRequest|StringToSign|Signature):", log, re.MULTILINE)
    signatures = set(re.findall(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", log)) - {EMPTY_SHA256}
    assert signatures == set(), sorted(signatures)[:3]
