"""The one-command local pipeline: broker + API + local event source mapping + handler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from local.api_server import free_port

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "pipeline.out"
    with open(out, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.pipeline", "--work-dir", str(tmp_path / "work"), *args],
            cwd=REPO_ROOT, stdout=sink, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    return process, out


def _wait_for(out: Path, text: str, process: subprocess.Popen, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        log = out.read_text(errors="replace")
        if text in log:
            return log
        if process.poll() is not None:
            break
        time.sleep(0.3)
    raise AssertionError(f"{text!r} not printed in {timeout_s}s:\n{out.read_text()[-4000:]}")


def test_exit_after_demo_shows_every_demo_event_consumed(tmp_path):
    process, out = _start(tmp_path, "--exit-after-demo", "--demo-events", "3",
                          "--port", str(free_port()))
    assert process.wait(timeout=240) == 0, out.read_text()[-4000:]
    log = out.read_text()
    assert "demo: 3/3 acknowledged, all consumed by the handler" in log
    assert log.count("[pipeline] consumed ") == 3
    # The dead-letter queue is a real local SQS server, shared with the mapping's on-failure
    # records, and the way to replay it is printed.
    assert "dead letters and on-failure records in http://127.0.0.1:" in log
    assert "python -m event_replay --from sqs:http://127.0.0.1:" in log
    assert "Kafka stopped" in log and "SQS/S3 server stopped" in log


def test_ctrl_c_stops_everything_and_loses_nothing_acknowledged(tmp_path):
    port = free_port()
    process, out = _start(tmp_path, "--demo-events", "0", "--port", str(port))
    try:
        _wait_for(out, "running; Ctrl-C stops everything", process, 180)
        # Events sent by a user while it runs, acknowledged by the API.
        acked = []
        for i in range(10):
            response = httpx.get(f"http://127.0.0.1:{port}/current_time",
                                 params={"name": f"user{i}"}, timeout=10)
            assert response.status_code == 200, response.text
            acked.append(response.headers["x-event-id"])
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 0, out.read_text()[-4000:]
    finally:
        if process.poll() is None:
            process.kill()
    log = out.read_text()
    for event_id in acked:
        assert f"consumed {event_id}" in log, event_id
    assert "all 10 records in 'events' consumed and committed" in log
    for line in ("API stopped (exit 0)", "consumer stopped", "Kafka stopped"):
        assert line in log
    # Nothing it started is left running.
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthcheck", timeout=2)
