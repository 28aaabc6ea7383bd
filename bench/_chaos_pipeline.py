"""The local pipeline of `./dev pipeline`, started part by part so the chaos run can break and
restart each part: the same steps, helpers and settings as local/pipeline.py (the stack's
program under Pulumi mocks, the real broker, the topic provisioner's and the consumer's packages
in the Lambda emulator, moto's SQS/S3 server, the API's production server), only kept as objects.

Every process is started by this process's main thread (restarts too): PR_SET_PDEATHSIG fires
when the *thread* that forked a child exits (local/processes.py), and the main thread lives as
long as the run.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.api_server import ApiServer, free_port, launch_api_server
from local.aws import LocalAws
from local.esm import BatchOutcome, LocalEventSourceMapping
from local.esm.emulated import (
    EmulatorHandler,
    event_id_of,
    settings_from_mapping,
    succeeded_records,
)
from local.functions import emulated
from local.kafka import LocalKafka
from local.lambda_runtime import LambdaEmulator, ensure_toolchain
from local.pipeline import _api_environment, _provision_topic, _shutdown, _stack, say
from local.processes import session_members

DEAD_LETTERS = "event-dead-letters"  # the queue's and the bucket's name, as local/pipeline.py
DEFAULT_SEND_TIMEOUT_MS = 5000  # event_api/settings.py's default for KAFKA_SEND_TIMEOUT_MS


class HandlerAnswers:
    """What the consumer's handler finished, read from each invocation's answer as the mapping
    reads it (like local/pipeline.py's ConsumedEvents), but counted: a redelivered event shows
    as a duplicate instead of disappearing into a set. Also the mapping's committed offsets."""

    def __init__(self, report_batch_item_failures: bool) -> None:
        self._report = report_batch_item_failures
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.first_at: dict[str, float] = {}  # event id -> perf_counter() of its first finish
        self.committed: dict[str, int] = {}

    def on_result(self, event: dict, result: object) -> None:
        now = time.perf_counter()
        for record in succeeded_records(event, result, self._report):
            if (event_id := event_id_of(record)) is not None:
                with self._lock:
                    self.counts[event_id] += 1
                    self.first_at.setdefault(event_id, now)

    def on_batch(self, outcome: BatchOutcome) -> None:
        with self._lock:
            self.committed.update(outcome.committed)

    def snapshot(self) -> tuple[Counter[str], dict[str, float]]:
        with self._lock:
            return Counter(self.counts), dict(self.first_at)


class TrackedHandler(EmulatorHandler):
    """The emulator handler, telling the chaos run when an invocation is in flight (to kill the
    function in the middle of a batch)."""

    def __init__(self, emulator: Any, on_result) -> None:
        super().__init__(emulator, on_result=on_result)
        self.in_flight = threading.Event()
        self.records_in_flight = 0

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.records_in_flight = sum(len(g) for g in (event.get("records") or {}).values())
        self.in_flight.set()
        try:
            return super().__call__(event, context)
        finally:
            self.in_flight.clear()


@dataclass
class ChaosPipeline:
    work: Path
    stack: Any
    broker: LocalKafka
    aws: LocalAws
    answers: HandlerAnswers
    topic: str = ""
    queue_url: str = ""
    bucket: str = ""
    consumer: LambdaEmulator | None = None
    handler: TrackedHandler | None = None
    esm: LocalEventSourceMapping | None = None
    api: ApiServer | None = None
    api_env: dict[str, str] = field(default_factory=dict)

    @property
    def send_timeout_ms(self) -> int:
        return int(self.api_env.get("KAFKA_SEND_TIMEOUT_MS") or DEFAULT_SEND_TIMEOUT_MS)

    # -- restart hooks (main thread only: see the module's docstring)

    def kill_broker(self) -> None:
        os.kill(self.broker.pid, signal.SIGKILL)
        self.broker.stop()  # reaps the killed JVM; nothing else to stop

    def kill_aws(self) -> None:
        os.kill(self.aws.process.pid, signal.SIGKILL)
        self.aws.process.wait(10)

    def restart_aws(self) -> None:
        """moto on the same port (the URLs the consumer and the mapping hold stay valid), with
        the queue and bucket made again: moto keeps them in memory only."""
        self.aws.start()
        url = self.aws.create_queue(DEAD_LETTERS)
        self.aws.create_bucket(DEAD_LETTERS)
        if url != self.queue_url:
            raise RuntimeError(f"the restarted SQS server names the queue {url}, not "
                               f"{self.queue_url}")

    def kill_consumer(self) -> None:
        """SIGKILL the emulator's whole session (the RIE and the function's runtime), as a
        crashed Lambda host; the mapping's in-flight invocation fails."""
        if (session := self.consumer.pid) is not None:
            for pid in session_members(session):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def restart_consumer(self) -> None:
        self.consumer.stop()  # reaps what the kill left
        self.consumer.start()

    def api_workers(self) -> list[int]:
        """The API supervisor's worker processes (uvicorn spawns them with multiprocessing)."""
        workers = []
        for pid in session_members(self.api.process.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if pid != self.api.process.pid and b"spawn_main" in cmdline:
                workers.append(pid)
        return workers

    def stop(self) -> bool:
        return _shutdown(self.api, self.esm, self.consumer, self.broker, self.aws, self.topic,
                         self.answers, threading.Event())


def start_pipeline(work: Path, stack_name: str = "dev") -> ChaosPipeline:
    """Everything `./dev pipeline` starts, in its order; on failure what was started is stopped
    (the caller gets the exception)."""
    stack = _stack(stack_name)
    toolchain = ensure_toolchain()
    mapping = stack.mapping
    pipeline = ChaosPipeline(work=work, stack=stack, broker=LocalKafka(work / "kafka"),
                             aws=LocalAws(work / "aws"),
                             answers=HandlerAnswers(mapping.report_batch_item_failures),
                             topic=mapping.topics[0])
    try:
        _start_parts(pipeline, toolchain)
    except BaseException:
        pipeline.stop()
        raise
    return pipeline


def _start_parts(p: ChaosPipeline, toolchain) -> None:
    mapping = p.stack.mapping
    say("starting Kafka (KRaft, TLS, MSK IAM authentication and authorization) ...")
    p.broker.start()
    p.broker.grant(p.topic, mapping.group_id)
    _provision_topic(p.stack, p.broker, p.work, toolchain)
    say("starting the local SQS/S3 server (dead-letter queue and bucket) ...")
    p.aws.start()
    p.queue_url = p.aws.create_queue(DEAD_LETTERS)
    p.bucket = p.aws.create_bucket(DEAD_LETTERS)
    # This process is the mapping: it signs MSK IAM tokens as the consumer's role and writes
    # on-failure records to the local queue (as local/pipeline.py).
    os.environ.update({**p.broker.client_env("consumer"), **p.aws.client_env()})
    function = p.stack.function("consumer")
    role = {k: v for k, v in p.broker.client_env("consumer").items() if k.startswith("AWS_")}
    p.consumer = emulated(function, p.work, toolchain=toolchain,
                          local_values={"DEAD_LETTER_QUEUE_URL": p.queue_url,
                                        "DEAD_LETTER_BUCKET": p.bucket},
                          runtime_env={**role, **p.aws.client_env()})
    p.consumer.start()
    p.handler = TrackedHandler(p.consumer, on_result=p.answers.on_result)
    p.esm = LocalEventSourceMapping(
        settings_from_mapping(mapping, bootstrap_servers=p.broker.sasl_bootstrap,
                              on_failure=f"sqs:{p.queue_url}", region=p.broker.region,
                              ca_file=str(p.broker.ca_file)),
        handler=p.handler, on_batch=p.answers.on_batch).start()
    if not p.esm.wait_ready(60):
        raise RuntimeError(f"the local event source mapping did not join its group: "
                           f"{p.esm.error or p.esm.last_processing_result}")
    p.api_env = _api_environment(p.stack, p.broker)
    p.api = launch_api_server(p.api_env, p.work, port=free_port(),
                              workers=int(p.api_env.get("WEB_CONCURRENCY") or 1))
    if not p.api.wait_ready(60):
        raise RuntimeError(f"the API did not become ready (/readyz); see {p.api.log_path}")
    say(f"pipeline up: API {p.api.base_url}, topic '{p.topic}', dead letters {p.queue_url}, "
        f"work dir {p.work}")


def wait_for(condition, timeout_s: float, step_s: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step_s)
    return bool(condition())


__all__ = ["ChaosPipeline", "HandlerAnswers", "TrackedHandler", "start_pipeline",
           "wait_for"]
