"""The chaos run, short (bench/chaos.py): a minute of steady API load against the local pipeline
while every fault kind is injected at least once (fixed seed), then every acknowledged event
accounted for. Also: the SQS/S3 server killed while poison records arrive (the consumer's
dead-letter sink and the mapping's on-failure destination both down) and the letters arriving
once it is back; and nothing bench.chaos started outliving it, even SIGKILLed mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bench._chaos_faults import Faults
from bench.chaos import RECOVERY_BOUND_S

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = 1  # order: API worker, broker SIGKILL, broker SIGSTOP, SQS/S3 down, consumer mid-batch


def _chaos(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.chaos", "--work-dir", str(tmp_path / "work"), *args],
        cwd=REPO_ROOT, stdout=open(tmp_path / "stdout", "wb"),
        stderr=open(tmp_path / "stderr", "wb"), env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _holding(directory: Path) -> list[int]:
    """Live processes (this one aside) whose working directory or an open file is under
    `directory`: every process the run starts has one (a log file, the broker's data)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            paths = [os.readlink(entry / "cwd")] + [os.readlink(fd) for fd in
                                                    (entry / "fd").iterdir()]
        except OSError:
            continue
        if any(p.startswith(str(directory)) for p in paths):
            found.append(int(entry.name))
    return found


def _tail(tmp_path: Path) -> str:
    return (tmp_path / "stderr").read_text(errors="replace")[-3000:]


def test_a_minute_of_chaos_loses_no_acknowledged_event(tmp_path):
    summary_path = tmp_path / "summary.json"
    process = _chaos(tmp_path, "--minutes", "1", "--seed", str(SEED), "--json",
                     str(summary_path))
    try:
        returncode = process.wait(timeout=900)
    finally:
        if process.poll() is None:
            process.kill()
    assert summary_path.exists(), _tail(tmp_path)
    summary = json.loads(summary_path.read_text())
    accounting, faults = summary["accounting"], summary["faults"]

    # Every fault kind happened, and the pipeline recovered from each within the bound.
    assert set(Counter(f["kind"] for f in faults)) == set(Faults.KINDS), faults
    for fault in faults:
        assert fault["recovery_s"] is not None, fault
        assert fault["recovery_s"] <= RECOVERY_BOUND_S, fault
    consumer_kill = next(f for f in faults if f["kind"] == "consumer-killed-mid-batch")
    assert "during an invocation of" in consumer_kill["detail"]  # really mid-batch

    # Every acknowledged event processed or dead-lettered with its payload; none lost.
    assert accounting["acknowledged"] > 200, accounting
    assert accounting["lost_count"] == 0, accounting["lost"]
    assert accounting["processed"] + accounting["dead_lettered"] == accounting["acknowledged"]
    # The broker outages were refused with 503 + Retry-After, never anything else.
    assert summary["503"] > 0 and summary["503_with_retry_after"] == summary["503"], summary
    assert set(summary["answers"]) <= {"200", "503", "no answer"}, summary["answers"]

    # The SQS/S3 server was down while poison records arrived: their letters, with the payload,
    # reached the queue after it came back.
    [outage] = summary["sqs_outages"]
    assert outage["poison"] > 0 and outage["dead_lettered_after_return"] == outage["poison"]
    assert accounting["poison_dead_lettered"] == accounting["poison_sent"]

    assert summary["targets_met"] and returncode == 0, summary["targets"]
    stdout = (tmp_path / "stdout").read_text()
    assert "LOST 0" in stdout and "targets: 0 lost: yes" in stdout
    assert _holding(tmp_path / "work") == []


def test_nothing_outlives_a_sigkilled_chaos_run(tmp_path):
    """SIGKILLed right after it restarted the broker itself (the second fault of this seed):
    the first broker, the restarted one, the SQS/S3 server, the function's emulator and the API
    must all go with it."""
    process = _chaos(tmp_path, "--minutes", "1", "--seed", str(SEED))
    try:
        deadline = time.monotonic() + 600
        while "FAULT broker-sigkill-restart: part back" not in (
                tmp_path / "stderr").read_text(errors="replace"):
            assert process.poll() is None and time.monotonic() < deadline, _tail(tmp_path)
            time.sleep(0.5)
        assert len(_holding(tmp_path / "work")) >= 4  # broker, moto, emulator, API at least
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.monotonic() + 15
    while (left := _holding(tmp_path / "work")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == [], [Path(f"/proc/{pid}/cmdline").read_bytes()[:200] for pid in left]
