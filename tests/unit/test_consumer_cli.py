"""Operator commands fail on bad configuration with one clear line per problem, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ["PATH"], **env},
    )


def test_local_esm_reports_every_bad_setting():
    result = _run(["-m", "local.esm", "--batch-size", "20000"],
                  {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert all(line.startswith("local.esm: configuration error: ") for line in lines)
    assert any("KAFKA_BOOTSTRAP_SERVERS" in x for x in lines)
    assert any("KAFKA_TOPIC" in x for x in lines)
    assert any("AWS_REGION" in x for x in lines)
    assert any("ESM_BATCH_SIZE (--batch-size) = '20000': must be a whole number from 1 to 10000"
               in x for x in lines)


def test_local_esm_checks_the_handlers_dead_letter_setting_before_polling():
    # The mapping's own on-failure queue is set; the handler's DEAD_LETTER_QUEUE_URL is not.
    result = _run(["-m", "local.esm"], {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
                                       "KAFKA_TOPIC": "events", "AWS_REGION": "us-east-1",
                                       "ESM_ON_FAILURE": "sqs:http://127.0.0.1:9/0/dlq"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "handler configuration error: no dead-letter sink" in result.stderr


def test_replay_rejects_a_bad_source(tmp_path):
    # sqlite: was the local SQLite store, removed: the dead-letter queue is the one store.
    for spec in ("redis:x", f"sqlite:{tmp_path / 'd.db'}", "sqs:http://sqs.example.com/1/q"):
        result = _run(["-m", "event_replay", "--from", spec, "--ledger", str(tmp_path / "l")], {})
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "--from must be sqs:https://QUEUE_URL (or sqs:http:// on loopback" in result.stderr


def test_replay_needs_kafka_settings_unless_dry_run(dead_letter_aws, tmp_path):
    queue = ["--from", f"sqs:{dead_letter_aws.queue_url}", "--ledger", str(tmp_path / "l")]
    env = {**dead_letter_aws.aws.client_env(), "AWS_ACCESS_KEY_ID": "x",
           "AWS_SECRET_ACCESS_KEY": "x"}
    result = _run(["-m", "event_replay", *queue], env)
    assert result.returncode == 2
    assert "replay: KAFKA_BOOTSTRAP_SERVERS is required" in result.stderr
    assert "replay: AWS_REGION is required" in result.stderr
    dry = _run(["-m", "event_replay", *queue, "--dry-run"], {**env, "AWS_REGION": "us-east-1"})
    assert dry.returncode == 0 and '"replayed": 0' in dry.stdout, dry.stderr


def test_replay_from_a_queue_needs_a_ledger():
    result = _run(["-m", "event_replay", "--from",
                   "sqs:https://sqs.us-east-1.amazonaws.com/123456789012/dlq"],
                  {"AWS_DEFAULT_REGION": "us-east-1"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "replay: --ledger PATH is required" in result.stderr
