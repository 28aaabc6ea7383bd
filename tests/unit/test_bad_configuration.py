"""Table-driven: each invalid service environment variable stops the real entry point with one
clear line naming the variable (exit code 2), never a traceback. The stack settings' table is in
tests/unit/test_settings.py and tests/unit/test_program.py (the whole program under mocks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API_OK = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9", "AWS_REGION": "us-east-1"}
ESM_OK = {**API_OK, "KAFKA_TOPIC": "events", "DEAD_LETTER_BUCKET": "dead-letters",
          "DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:9/000000000000/dead-letters"}

CASES = [
    # (entry point, environment, the variable the one error line must name)
    ("event_api", {**API_OK, "KAFKA_BOOTSTRAP_SERVERS": "no-port"}, "KAFKA_BOOTSTRAP_SERVERS"),
    ("event_api", {**API_OK, "KAFKA_BOOTSTRAP_SERVERS": ""}, "KAFKA_BOOTSTRAP_SERVERS"),
    ("event_api", {**API_OK, "KAFKA_TOPIC": "bad topic!"}, "KAFKA_TOPIC"),
    ("event_api", {**API_OK, "KAFKA_TOPIC": ".."}, "KAFKA_TOPIC"),
    ("event_api", {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}, "AWS_REGION"),
    ("event_api", {**API_OK, "KAFKA_SECURITY_PROTOCOL": "SSL"}, "KAFKA_SECURITY_PROTOCOL"),
    ("event_api", {**API_OK, "KAFKA_CA_FILE": "/nonexistent/ca.pem"}, "KAFKA_CA_FILE"),
    ("event_api", {**API_OK, "HTTP_KEEPALIVE_TIMEOUT_S": "0"}, "HTTP_KEEPALIVE_TIMEOUT_S"),
    ("event_api", {**API_OK, "KAFKA_SEND_TIMEOUT_MS": "soon"}, "KAFKA_SEND_TIMEOUT_MS"),
    ("event_api", {**API_OK, "KAFKA_ENABLE_IDEMPOTENCE": "maybe"}, "KAFKA_ENABLE_IDEMPOTENCE"),
    ("event_api", {**API_OK, "KAFKA_DISABLED": "perhaps"}, "KAFKA_DISABLED"),
    ("event_api", {**API_OK, "PORT": "70000"}, "PORT"),
    ("event_api", {**API_OK, "WEB_CONCURRENCY": "-1"}, "WEB_CONCURRENCY"),
    ("event_api", {**API_OK, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ("local.esm", {**ESM_OK, "ESM_BATCH_SIZE": "0"}, "ESM_BATCH_SIZE"),
    ("local.esm", {**ESM_OK, "ESM_STARTING_POSITION": "AT_TIMESTAMP"}, "ESM_STARTING_POSITION"),
    ("local.esm", {**ESM_OK, "KAFKA_SECURITY_PROTOCOL": "SSL"}, "KAFKA_SECURITY_PROTOCOL"),
    ("local.esm", {**ESM_OK, "ESM_BATCHING_WINDOW_S": "forever"}, "ESM_BATCHING_WINDOW_S"),
    # No dead-letter queue: nowhere for a given-up batch's on-failure record to go.
    ("local.esm", {**API_OK, "KAFKA_TOPIC": "events"}, "ESM_ON_FAILURE"),
    ("local.esm", {**ESM_OK, "ESM_ON_FAILURE": "jsonl:/tmp/on-failure.jsonl"}, "ESM_ON_FAILURE"),
]


@pytest.mark.parametrize(("module", "env", "variable"), CASES,
                         ids=[f"{m}-{v}-{i}" for i, (m, _, v) in enumerate(CASES)])
def test_one_clear_line_and_no_traceback(module, env, variable):
    result = subprocess.run(
        [sys.executable, "-m", module], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ["PATH"], "AWS_EC2_METADATA_DISABLED": "true",
             **env},
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "configuration error" in lines[0] and variable in lines[0], lines[0]


def test_local_esm_refuses_a_bad_configuration_before_loading_pulumi_boto_or_kafka():
    """Fails fast: the rules are checked before the stack's declarations (pulumi, pydantic) and
    the MSK IAM token code (botocore, kafka-python) are imported, ~0.7 s a run otherwise."""
    code = ("import runpy, sys\n"
            "try:\n"
            "    runpy.run_module('local.esm', run_name='__main__')\n"
            "except SystemExit as stop:\n"
            "    heavy = {'pulumi', 'pydantic', 'botocore.session', 'kafka'}\n"
            "    print(stop.code, *sorted(heavy & set(sys.modules)))\n")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ["PATH"], **ESM_OK, "ESM_BATCH_SIZE": "0"})
    assert "ESM_BATCH_SIZE" in result.stderr
    assert result.stdout.split() == ["2"], result.stdout
