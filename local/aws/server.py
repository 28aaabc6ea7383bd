"""Start moto's standalone server (`python -m moto.server`) on a free loopback port, create the
dead-letter queue and bucket, and hand out the environment that points boto3 at them.

moto keeps its state in memory: a restart empties the queue, so this is for tests and the local
pipeline, never for data that must outlive the process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from local.ports import free_loopback_port
from local.processes import die_with_parent

STARTUP_TIMEOUT_S = 30.0
REGION = "us-east-1"
# moto accepts any credentials; these name themselves so nobody mistakes them for real ones.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIALOCALMOTOSERVER0",
                    "AWS_SECRET_ACCESS_KEY": "local-moto-server-accepts-any-secret"}


@dataclass
class LocalAws:
    """`with LocalAws(work_dir) as aws:` or start()/stop()."""

    work_dir: Path
    port: int = field(default_factory=free_loopback_port)
    process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.work_dir / "local-aws.log"

    def client_env(self) -> dict[str, str]:
        """Service-specific endpoint variables (botocore's own configuration: the same code paths
        as in AWS) and the region boto3 signs for (it reads AWS_DEFAULT_REGION, not AWS_REGION)."""
        return {"AWS_ENDPOINT_URL_SQS": self.endpoint, "AWS_ENDPOINT_URL_S3": self.endpoint,
                "AWS_DEFAULT_REGION": REGION}

    def start(self) -> LocalAws:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                # Its own session (a terminal's Ctrl-C reaches only us), dying with us.
                start_new_session=True, preexec_fn=die_with_parent())
        try:
            self._wait_ready()
        except BaseException:  # not ready, or interrupted while waiting
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"local AWS server exited ({self.process.returncode}); "
                                   f"see {self.log_path}")
            try:
                # moto's own reset/health endpoint answers once the server is up.
                if httpx.get(f"{self.endpoint}/moto-api/data.json", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"local AWS server not ready after {STARTUP_TIMEOUT_S:.0f} s; "
                           f"see {self.log_path}")

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])

    def create_queue(self, name: str) -> str:
        """A queue like the deployed one (14-day retention); returns its URL."""
        return self.client("sqs").create_queue(
            QueueName=name, Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)})["QueueUrl"]

    def create_bucket(self, name: str) -> str:
        self.client("s3").create_bucket(Bucket=name)
        return name
