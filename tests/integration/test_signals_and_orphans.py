"""Issue 27: every long-running entry point stops on SIGINT even when launched with SIGINT
ignored, and nothing it started outlives it, even when it is SIGKILLed.

A POSIX shell starts a background job (`cmd &` in a script) with SIGINT and SIGQUIT ignored
(POSIX, Shell Command Language 2.11 "Signals and Error Handling"), and an ignored signal stays
ignored across execve (signal(7)); so CI runners, nohup and IDE launchers can start a Python
program whose default KeyboardInterrupt never fires. The tests start each entry point that way.
Bounds are generous for 2 shared cores, but bounded.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from local.api_server import free_port

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]
# What docs/local-development.md states for ./dev pipeline (local/pipeline.py SHUTDOWN_BOUND_S
# and HURRIED_BOUND_S; tests/unit/test_docs_generated.py keeps the page equal to them), plus
# slack for a loaded 2-core machine to run the last exit.
PIPELINE_STOP_S = 120 + 15
PIPELINE_HURRIED_STOP_S = 30 + 15
STOP_S = 60  # the other entry points (broker: 30 s SIGTERM + kill; API: 21 s grace + flush)
ORPHAN_S = 15  # after a SIGKILL of the parent, everything it started is gone within this
_libc = ctypes.CDLL(None, use_errno=True)


def _as_background_job() -> None:
    """preexec_fn: what `cmd &` in a script does to SIGINT; and die with the test (prctl(2)
    PR_SET_PDEATHSIG), so a failing test leaves nothing behind either."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _libc.prctl(1, signal.SIGKILL)


def _launch(args: list[str], out: Path, env: dict | None = None) -> subprocess.Popen:
    with open(out, "wb") as sink:
        return subprocess.Popen(
            [sys.executable, *args], cwd=REPO_ROOT, stdout=sink, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            preexec_fn=_as_background_job)


def _sigint_ignored(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1],
               16)
    return bool(mask & (1 << (signal.SIGINT - 1)))


def _wait_for(out: Path, text: str, process: subprocess.Popen, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        log = out.read_text(errors="replace")
        if text in log:
            return log
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not printed in {timeout_s} s:\n{out.read_text()[-4000:]}")


def _stat(pid: int) -> list[str] | None:
    """Fields after "(comm)" of /proc/PID/stat: [state, ppid, pgrp, session, ...]."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")  # a zombie only waits for a reap


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {pid for pid in found if _alive(pid)}


def _listening_ports(pids: set[int]) -> set[int]:
    """TCP ports these processes listen on (their socket inodes in /proc/net/tcp*)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: TCP_LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _port_free(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def _assert_all_gone(pids: set[int], ports: set[int], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        left = {pid for pid in pids if _alive(pid)}
        busy = {port for port in ports if not _port_free(port)}
        if not left and not busy:
            return
        time.sleep(0.2)
    names = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:120] for pid in left
             if Path(f"/proc/{pid}/cmdline").exists()}
    for pid in left:  # do not leave them for the next test
        os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"still running after {timeout_s} s: {names}; ports in use: {busy}")


def _stop_with_sigint(process: subprocess.Popen, out: Path, timeout_s: float) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"not stopped {timeout_s} s after SIGINT:\n"
                             f"{out.read_text()[-4000:]}") from None


def _cleanup(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


# --- ./dev pipeline -----------------------------------------------------------------------


def _start_pipeline(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path, int]:
    port = free_port()
    out = tmp_path / "pipeline.out"
    process = _launch(["-m", "local.pipeline", "--work-dir", str(tmp_path / "work"),
                       "--port", str(port), *args], out)
    return process, out, port


def test_pipeline_launched_with_sigint_ignored_stops_on_sigint(tmp_path):
    process, out, port = _start_pipeline(tmp_path, "--demo-events", "0")
    try:
        _wait_for(out, "running; Ctrl-C stops everything", process, 240)
        assert _sigint_ignored(process.pid) is False  # its own handler, not the inherited SIG_IGN
        children = _descendants(process.pid)
        ports = _listening_ports(children) | {port}
        acked = []
        for i in range(5):
            response = httpx.get(f"http://127.0.0.1:{port}/current_time",
                                 params={"name": f"bg{i}"}, timeout=10)
            assert response.status_code == 200, response.text
            acked.append(response.headers["x-event-id"])
        assert _stop_with_sigint(process, out, PIPELINE_STOP_S) == 0, out.read_text()[-4000:]
        _assert_all_gone(children, ports, ORPHAN_S)
    finally:
        _cleanup(process)
    log = out.read_text()
    for event_id in acked:
        assert f"consumed {event_id}" in log, event_id
    assert "SIGINT: stopping" in log and "SQS/S3 server stopped" in log


def test_pipeline_sigterm_during_startup_stops_it(tmp_path):
    process, out, _ = _start_pipeline(tmp_path, "--demo-events", "0")
    try:
        _wait_for(out, "starting Kafka", process, 120)
        time.sleep(2)  # the JVM is starting
        children = _descendants(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=PIPELINE_STOP_S) == 0, out.read_text()[-4000:]
        _assert_all_gone(children | _descendants(process.pid), set(), ORPHAN_S)
    finally:
        _cleanup(process)
    assert "SIGTERM: stopping" in out.read_text()


def _runtime_of(pipeline: int) -> int:
    """The consumer's runtime (`python -m awslambdaric`, the RIE's child)."""
    for pid in _descendants(pipeline):
        try:
            if b"awslambdaric" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    raise AssertionError("no awslambdaric runtime among the pipeline's processes")


def test_second_sigint_cuts_the_drain_short_and_says_what_is_left(tmp_path):
    process, out, port = _start_pipeline(tmp_path, "--demo-events", "1")
    try:
        _wait_for(out, "running; Ctrl-C stops everything", process, 240)
        children = _descendants(process.pid)
        ports = _listening_ports(children) | {port}
        # The function hangs (its runtime stopped): what the API acknowledges now stays behind.
        os.kill(_runtime_of(process.pid), signal.SIGSTOP)
        for i in range(4):
            response = httpx.get(f"http://127.0.0.1:{port}/current_time",
                                 params={"name": f"stuck{i}"}, timeout=10)
            assert response.status_code == 200, response.text
        process.send_signal(signal.SIGINT)
        _wait_for(out, "waiting until the consumer has committed", process, 60)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=PIPELINE_HURRIED_STOP_S)
        assert time.monotonic() - started < PIPELINE_HURRIED_STOP_S
        assert code == 1, out.read_text()[-4000:]  # not everything acknowledged was consumed
        _assert_all_gone(children, ports, ORPHAN_S)
    finally:
        _cleanup(process)
    log = out.read_text()
    line = next((x for x in log.splitlines() if "drain cut short" in x), None)
    assert line is not None, log[-4000:]
    # 4 records were sent after the demo's one was committed: all 4 left, in 'events'.
    assert "4 records left unconsumed in 'events'" in line, line
    assert "Kafka stopped" in log and "SQS/S3 server stopped" in log


def test_sigkill_of_the_pipeline_leaves_no_process_and_no_port(tmp_path):
    process, out, port = _start_pipeline(tmp_path, "--demo-events", "1")
    try:
        _wait_for(out, "running; Ctrl-C stops everything", process, 240)
        assert httpx.get(f"http://127.0.0.1:{port}/healthcheck", timeout=5).status_code == 200
        children = _descendants(process.pid)
        commands = b" ".join(Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children)
        # The broker, the SQS/S3 server, the API's supervisor and worker, the RIE and its runtime.
        for name in (b"kafka.Kafka", b"moto.server", b"event_api", b"aws-lambda-rie",
                     b"awslambdaric"):
            assert name in commands, name
        ports = _listening_ports(children) | {port}
        assert len(ports) >= 6  # API, broker x3, SQS/S3, RIE
        process.kill()
        process.wait()
        _assert_all_gone(children, ports, ORPHAN_S)
    finally:
        _cleanup(process)


# --- the other long-running entry points ----------------------------------------------------


def test_local_aws_launched_with_sigint_ignored_stops_on_sigint(tmp_path):
    out = tmp_path / "aws.out"
    process = _launch(["-m", "local.aws", "--work-dir", str(tmp_path / "aws")], out)
    try:
        _wait_for(out, "Ctrl-C stops it", process, 60)
        children = _descendants(process.pid)
        ports = _listening_ports(children)
        assert ports
        assert _stop_with_sigint(process, out, STOP_S) == 0
        _assert_all_gone(children, ports, ORPHAN_S)
    finally:
        _cleanup(process)


def test_local_aws_killed_leaves_no_server(tmp_path):
    out = tmp_path / "aws.out"
    process = _launch(["-m", "local.aws", "--work-dir", str(tmp_path / "aws")], out)
    try:
        _wait_for(out, "Ctrl-C stops it", process, 60)
        children = _descendants(process.pid)
        ports = _listening_ports(children)
        process.kill()
        process.wait()
        _assert_all_gone(children, ports, ORPHAN_S)
    finally:
        _cleanup(process)


def _start_broker_cli(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "broker.out"
    process = _launch(["-m", "local.kafka", "start", "--work-dir", str(tmp_path / "b")],
                      out)
    return process, out


def test_broker_cli_launched_with_sigint_ignored_stops_on_sigint_while_starting(tmp_path):
    process, out = _start_broker_cli(tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not any(b"kafka.Kafka" in Path(f"/proc/{pid}/cmdline").read_bytes()
                      for pid in _descendants(process.pid)):
            assert time.monotonic() < deadline and process.poll() is None, out.read_text()
            time.sleep(0.1)
        children = _descendants(process.pid)
        assert _stop_with_sigint(process, out, STOP_S) in (0, 1)
        _assert_all_gone(children, set(), ORPHAN_S)
    finally:
        _cleanup(process)


def test_broker_cli_launched_with_sigint_ignored_stops_on_sigint_and_dies_with_it(tmp_path):
    process, out = _start_broker_cli(tmp_path)
    try:
        _wait_for(out, "Ctrl-C stops it.", process, 180)
        children = _descendants(process.pid)
        ports = _listening_ports(children)
        assert len(ports) == 3
        assert _stop_with_sigint(process, out, STOP_S) == 0
        _assert_all_gone(children, ports, ORPHAN_S)
        # Started again and SIGKILLed: the JVM goes with it.
        (tmp_path / "again").mkdir()
        process, out = _start_broker_cli(tmp_path / "again")
        _wait_for(out, "Ctrl-C stops it.", process, 180)
        children = _descendants(process.pid)
        ports = _listening_ports(children)
        process.kill()
        process.wait()
        _assert_all_gone(children, ports, ORPHAN_S)
    finally:
        _cleanup(process)


def _start_api(tmp_path: Path) -> tuple[subprocess.Popen, Path, int]:
    port = free_port()
    out = tmp_path / "api.out"
    process = _launch(["-m", "event_api"], out, env={
        "KAFKA_DISABLED": "true", "BIND_HOST": "127.0.0.1", "PORT": str(port),
        "WEB_CONCURRENCY": "2"})
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None and time.monotonic() < deadline, out.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthcheck", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    # Both workers up (each one pings back to the supervisor).
    while len(_descendants(process.pid)) < 2:
        assert time.monotonic() < deadline, out.read_text()
        time.sleep(0.2)
    return process, out, port


def test_event_api_launched_with_sigint_ignored_stops_on_sigint(tmp_path):
    tmp_path.joinpath("a").mkdir()
    process, out, port = _start_api(tmp_path / "a")
    try:
        workers = _descendants(process.pid)
        assert _stop_with_sigint(process, out, STOP_S) == 0
        _assert_all_gone(workers, {port}, ORPHAN_S)
    finally:
        _cleanup(process)


def test_event_api_workers_die_with_a_killed_supervisor(tmp_path):
    tmp_path.joinpath("a").mkdir()
    process, out, port = _start_api(tmp_path / "a")
    try:
        workers = _descendants(process.pid)
        process.kill()
        process.wait()
        _assert_all_gone(workers, {port}, ORPHAN_S)
    finally:
        _cleanup(process)


def test_local_esm_launched_with_sigint_ignored_stops_on_sigint(tmp_path, kafka_broker,
                                                                 kafka_topic):
    group = f"signals-{kafka_topic}"
    kafka_broker.grant(kafka_topic, group)
    out = tmp_path / "esm.out"
    process = _launch(["-m", "local.esm"], out, env={
        **kafka_broker.client_env("consumer"), "KAFKA_TOPIC": kafka_topic,
        "ESM_CONSUMER_GROUP_ID": group, "DEAD_LETTER_BUCKET": "dead-letters",
        # Nothing fails here: the queue (and the on-failure destination, the same queue) is
        # never reached.
        "DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:9/000000000000/dead-letters"})
    try:
        _wait_for(out, "local event source mapping starting", process, 60)
        time.sleep(3)  # polling (or still joining the group)
        assert _stop_with_sigint(process, out, STOP_S) == 0
    finally:
        _cleanup(process)
