"""Run the API's production server (`python -m event_api`) as a child process on loopback.

Shared by the local pipeline command, the benchmarks and the tests, so all of them exercise the
same entry point and process model that the container runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from local.ports import free_loopback_port as free_port
from local.processes import die_with_parent

__all__ = ["ApiServer", "free_port", "launch_api_server"]
STARTUP_TIMEOUT_S = 30.0



@dataclass
class ApiServer:
    process: subprocess.Popen
    port: int
    log_path: Path
    env: dict = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout_s: float = 25.0) -> int:
        """SIGTERM (as ECS does) and wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            raise

    def wait_ready(self, timeout_s: float = 60.0) -> bool:
        """True once /readyz answers 200 (producer connected, topic present)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(self.base_url + "/readyz", timeout=2.0).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.terminate(timeout_s=25.0)
            except subprocess.TimeoutExpired:
                pass


def _wait_healthy(server: ApiServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"API server exited with {server.process.returncode}:\n{server.log_text()}"
            )
        try:
            if httpx.get(server.base_url + "/healthcheck", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"API server not healthy in {STARTUP_TIMEOUT_S}s:\n{server.log_text()}")


def launch_api_server(env: dict, log_dir: Path, topic: str | None = None,
                      workers: int = 2, port: int | None = None) -> ApiServer:
    """Start `python -m event_api` on loopback (a free port unless given) and wait until healthy."""
    port = port or free_port()
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONUNBUFFERED": "1",
        "HOME": os.environ.get("HOME", str(log_dir)),
        **env,
        "BIND_HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
    }
    if topic is not None:
        full_env["KAFKA_TOPIC"] = topic
    log_path = log_dir / f"api-{port}.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "event_api"],
            cwd=log_dir,  # the installed event_api package runs from anywhere
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Its own session: a terminal Ctrl-C reaches only our process, which then stops the
            # API before the consumer and the broker (the order that loses nothing).
            start_new_session=True,
            # It dies with us, even on SIGKILL; its workers die with it (event_api/server.py).
            preexec_fn=die_with_parent(),
        )
    server = ApiServer(process=process, port=port, log_path=log_path, env=full_env)
    try:
        _wait_healthy(server)
    except BaseException:
        server.stop()
        raise
    return server
