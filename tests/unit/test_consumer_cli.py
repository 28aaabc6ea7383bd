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
    result = _run(["-m", "local.esm"], {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
                                       "KAFKA_TOPIC": "events", "AWS_REGION": "us-east-1"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "handler configuration error: no dead-letter sink" in result.stderr


def test_replay_rejects_a_bad_source(tmp_path):
    for spec, message in [("redis:x", "--from must be sqlite:PATH or sqs:https://QUEUE_URL"),
                          (f"sqlite:{tmp_path / 'none.db'}", "no such file")]:
        result = _run(["-m", "event_replay", "--from", spec], {})
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert message in result.stderr


def test_replay_needs_kafka_settings_unless_dry_run(tmp_path):
    from event_consumer.sqlite_sink import SqliteDeadLetterSink

    SqliteDeadLetterSink(str(tmp_path / "d.db"))
    result = _run(["-m", "event_replay", "--from", f"sqlite:{tmp_path / 'd.db'}"], {})
    assert result.returncode == 2
    assert "replay: KAFKA_BOOTSTRAP_SERVERS is required" in result.stderr
    assert "replay: AWS_REGION is required" in result.stderr
    dry = _run(["-m", "event_replay", "--from", f"sqlite:{tmp_path / 'd.db'}",
                "--dry-run"], {})
    assert dry.returncode == 0 and '"replayed": 0' in dry.stdout


def test_replay_from_a_queue_needs_a_ledger():
    result = _run(["-m", "event_replay", "--from",
                   "sqs:https://sqs.us-east-1.amazonaws.com/123456789012/dlq"],
                  {"AWS_DEFAULT_REGION": "us-east-1"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "replay: --ledger PATH is required with sqs:" in result.stderr
