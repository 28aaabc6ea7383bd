"""The whole pipeline on this machine in one command: `./dev pipeline [--stack dev]`
(`python -m local.pipeline`).

It runs what `pulumi up` ships for the chosen stack file, read from the program's own resource
graph (testing/deployables.py: the program under Pulumi mocks), and starts, in order:
1. a real Apache Kafka broker (KRaft) with TLS and MSK IAM authentication and authorization
   (`local.kafka`), holding the program's IAM policies for the stack's topic and group;
2. the topic, made by the topic provisioner's **package** (the folder the program builds) in AWS's
   Lambda Runtime Interface Emulator with Python 3.13 (`local.functions`), invoked once with the
   `Invocation`'s input, as the `topic-admin` principal;
3. a local SQS/S3-compatible server (`local.aws`, moto's server mode) holding the dead-letter
   queue and bucket, reached through the real boto3 code paths (AWS_ENDPOINT_URL_SQS/_S3);
4. the consumer's package in the emulator, fed by the local MSK event source mapping
   (`local.esm`) through the Lambda Invoke API, with the batch size, batching window, starting
   position, retries and partial batch responses of the program's mapping; the mapping writes
   its on-failure records to the dead-letter queue, like the deployed stack;
5. the API's production server (`python -m event_api`) with the task definition's environment;
then sends a few demo events through the API and shows each one finished by the function.

The functions' variables are the program's; only the values that name AWS resources (cluster,
queue, bucket) name their local stand-ins, and Lambda's own (region, the role's credentials) are
a local principal's. It keeps running (printing where the API listens) until Ctrl-C, or exits
after the demo with `--exit-after-demo`. Shutdown goes API → consumer → broker → SQS/S3 server
and first waits until the consumer has committed everything in the topic, so nothing the API
acknowledged is left unconsumed. (The local SQS/S3 server keeps its queue in memory: replay
before stopping.)

SIGINT and SIGTERM stop it whatever it is doing and however it was started (handlers installed
explicitly: a script's background job inherits SIGINT ignored, see local/processes.py), within
SHUTDOWN_BOUND_S; a second one cuts the wait for the consumer short, says what it left
unconsumed, and everything is stopped within HURRIED_BOUND_S of it. Every process started here
dies with this one, even if it is SIGKILLed (PR_SET_PDEATHSIG, local/processes.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from local.api_server import launch_api_server
from local.aws import LocalAws
from local.esm import BatchOutcome, LocalEventSourceMapping
from local.esm.emulated import (
    EmulatorHandler,
    event_id_of,
    settings_from_mapping,
    succeeded_records,
)
from local.functions import emulated, localized, split_principal_env
from local.kafka import LocalKafka
from local.lambda_runtime import LambdaRuntimeError, ensure_toolchain
from local.processes import StopSignals, kill_descendants
from testing.deployables import DeployablesError, StackDeployables, stack_deployables

DRAIN_TIMEOUT_S = 60.0
# From the first SIGINT/SIGTERM to the exit, whatever is running: the API's graceful stop
# (<= 30 s: in-flight sends, then the producer's flush), the wait for the consumer
# (<= DRAIN_TIMEOUT_S), then the consumer, the broker and the SQS/S3 server (seconds each, each
# bounded). Past the bound, or HURRIED_BOUND_S after a further signal, the watchdog kills what
# is left and exits.
SHUTDOWN_BOUND_S = 120.0
HURRIED_BOUND_S = 30.0
DEFAULT_STACK = "dev"


def say(message: str) -> None:
    print(f"[pipeline] {message}", file=sys.stderr, flush=True)


class ConsumedEvents:
    """What the function finished, read from each invocation's answer as the mapping reads it, so
    the demo can show (and wait for) each event."""

    def __init__(self, report_batch_item_failures: bool) -> None:
        self._report = report_batch_item_failures
        self._lock = threading.Lock()
        self._ids: set[str] = set()
        self.committed: dict[str, int] = {}

    def on_result(self, event: dict, result: object) -> None:
        for record in succeeded_records(event, result, self._report):
            event_id = event_id_of(record)
            if event_id is None:
                continue
            with self._lock:
                self._ids.add(event_id)
            say(f"consumed {event_id}  partition {record['partition']} "
                f"offset {record['offset']}  (function answered {json.dumps(result)[:120]})")

    def on_batch(self, outcome: BatchOutcome) -> None:
        with self._lock:
            self.committed.update(outcome.committed)

    def has(self, event_ids: set[str]) -> bool:
        with self._lock:
            return event_ids <= self._ids


def _write_env_file(path: Path, env: dict[str, str]) -> Path:
    """KEY=VALUE lines for `env $(cat PATH) ...`, readable by the owner only (it holds the local
    broker's throwaway admin key, which is never printed)."""
    path.touch(mode=0o600)
    path.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    return path


def _end_offsets(broker: LocalKafka, topic: str) -> dict[str, int]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=broker.plaintext_bootstrap,
                             request_timeout_ms=10_000)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return {f"{tp.topic}-{tp.partition}": off
                for tp, off in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def _left(ends: dict[str, int], committed: dict[str, int]) -> dict[str, int]:
    """Records per partition past its committed offset."""
    return {k: end - committed.get(k, 0) for k, end in ends.items() if end > committed.get(k, 0)}


def _drain(broker: LocalKafka, topic: str, consumed: ConsumedEvents,
           hurry: threading.Event) -> bool:
    """Wait until the mapping has committed up to the end of every partition, at most
    DRAIN_TIMEOUT_S, and not once `hurry` is set (a further signal)."""
    ends = _end_offsets(broker, topic)
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    if left := _left(ends, consumed.committed):
        say(f"waiting until the consumer has committed the {sum(left.values())} records left "
            f"in '{topic}' (at most {DRAIN_TIMEOUT_S:.0f} s; Ctrl-C again stops without waiting)")
    while left := _left(ends, consumed.committed):
        if hurry.is_set() or time.monotonic() >= deadline:
            why = "drain cut short" if hurry.is_set() else (
                f"WARNING: consumer still behind after {DRAIN_TIMEOUT_S:.0f} s")
            say(f"{why}: {sum(left.values())} records left unconsumed in '{topic}' "
                f"({', '.join(f'{k}: {n}' for k, n in sorted(left.items()))}; end offsets "
                f"{ends}, committed {consumed.committed}); they stay in the broker's log, "
                "uncommitted, for the consumer's next start")
            return False
        hurry.wait(0.2)
    say(f"all {sum(ends.values())} records in '{topic}' consumed and committed")
    return True


class Watchdog:
    """The shutdown's hard bound: past its deadline, kill every process started here and exit.

    A thread started up front; signal handlers only move the deadline (no lock, no thread start
    inside a handler, which could deadlock on the main thread's own locks)."""

    def __init__(self) -> None:
        self.deadline: float | None = None
        threading.Thread(target=self._run, name="shutdown-watchdog", daemon=True).start()

    def arm(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        if self.deadline is None or deadline < self.deadline:
            self.deadline = deadline

    def _run(self) -> None:
        while self.deadline is None or time.monotonic() < self.deadline:
            time.sleep(0.2)
        say("shutdown did not finish within its bound: killing what is left")
        kill_descendants()
        os._exit(1)


def _demo(base_url: str, consumed: ConsumedEvents, count: int) -> bool:
    ids: set[str] = set()
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        for i in range(1, count + 1):
            response = client.get("/current_time", params={"name": f"Demo{i}"})
            event_id = response.headers.get("x-event-id", "-")
            say(f"GET /current_time?name=Demo{i} -> {response.status_code} "
                f"{response.text}  event_id {event_id}")
            if response.status_code == 200:
                ids.add(event_id)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not consumed.has(ids):
        time.sleep(0.1)
    ok = len(ids) == count and consumed.has(ids)
    say(f"demo: {len(ids)}/{count} acknowledged, "
        f"{'all' if ok else 'NOT all'} consumed by the handler")
    return ok


def _stack(name: str) -> StackDeployables:
    say(f"reading stack '{name}' from the program (Pulumi.{name}.yaml under Pulumi mocks) ...")
    stack = stack_deployables(name)
    if stack.mapping is None or stack.topic_request is None:
        raise DeployablesError(f"stack {name!r} deploys no Kafka (kafkaEnabled: false): no topic, "
                               "consumer or mapping to run here")
    return stack


def _provision_topic(stack: StackDeployables, broker: LocalKafka, work: Path,
                     toolchain) -> None:
    function = stack.function("topic_admin")
    local_values, runtime_env = split_principal_env(broker.client_env("topic-admin"),
                                                    function.environment)
    with emulated(function, work, toolchain=toolchain, local_values=local_values,
                  runtime_env=runtime_env) as emulator:
        result = emulator.invoke(dict(stack.topic_request))
    say(f"topic provisioned by the {function.resource_name} package with "
        f"{json.dumps(stack.topic_request)}: {json.dumps(result)}")


def _api_environment(stack: StackDeployables, broker: LocalKafka) -> dict[str, str]:
    program = dict(stack.api_environment)
    local_values, role = split_principal_env(broker.client_env("api"), program)
    return {**localized(program, local_values), **role}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.pipeline",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--stack", default=DEFAULT_STACK,
                        help=f"the stack file to run, Pulumi.STACK.yaml (default {DEFAULT_STACK})")
    parser.add_argument("--port", type=int, default=8000,
                        help="API port on 127.0.0.1 (default 8000)")
    parser.add_argument("--demo-events", type=int, default=5,
                        help="demo events to send (default 5)")
    parser.add_argument("--exit-after-demo", action="store_true",
                        help="stop everything after the demo instead of running until Ctrl-C")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="broker data, logs and dead letters (default: a new temp dir)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be 1-65535, got {args.port}")
    if args.demo_events < 0:
        parser.error(f"--demo-events must be >= 0, got {args.demo_events}")
    watchdog = Watchdog()
    hurry = threading.Event()

    def on_signal(signum: int, repeated: bool) -> None:
        if repeated:
            hurry.set()
        watchdog.arm(HURRIED_BOUND_S if repeated else SHUTDOWN_BOUND_S)

    signals = StopSignals(on_signal).install()
    try:
        stack = _stack(args.stack)
        toolchain = ensure_toolchain()
    except (DeployablesError, LambdaRuntimeError) as error:
        say(f"ERROR: {error}")
        return 2
    except KeyboardInterrupt as interrupt:  # nothing started yet
        say(f"{interrupt or 'SIGINT'}: stopping")
        return 0
    mapping = stack.mapping
    topic = mapping.topics[0]

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="event-pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    say(f"work dir {work}")
    broker = LocalKafka(work / "kafka")
    aws = LocalAws(work / "aws")
    api = esm = consumer_function = None
    consumed = ConsumedEvents(mapping.report_batch_item_failures)
    ok = True
    try:
        say("starting Kafka (KRaft, TLS, MSK IAM authentication and authorization) ...")
        broker.start()
        # The program's policies for this stack's topic and group, before anything connects.
        broker.grant(topic, mapping.group_id)
        say(f"Kafka SASL_SSL {broker.sasl_bootstrap}, PLAINTEXT {broker.plaintext_bootstrap}, "
            f"CA {broker.ca_file}")
        _provision_topic(stack, broker, work, toolchain)

        say("starting the local SQS/S3 server (dead-letter queue and bucket) ...")
        aws.start()
        queue_url = aws.create_queue("event-dead-letters")
        bucket = aws.create_bucket("event-dead-letters")
        # This process is the mapping: it signs MSK IAM tokens as the consumer's role and writes
        # on-failure records to the local queue.
        os.environ.update({**broker.client_env("consumer"), **aws.client_env()})

        function = stack.function("consumer")
        role = {k: v for k, v in broker.client_env("consumer").items()
                if k.startswith("AWS_")}
        consumer_function = emulated(
            function, work, toolchain=toolchain,
            local_values={"DEAD_LETTER_QUEUE_URL": queue_url, "DEAD_LETTER_BUCKET": bucket},
            runtime_env={**role, **aws.client_env()})
        consumer_function.start()
        esm = LocalEventSourceMapping(
            settings_from_mapping(mapping, bootstrap_servers=broker.sasl_bootstrap,
                                  on_failure=f"sqs:{queue_url}", region=broker.region,
                                  ca_file=str(broker.ca_file)),
            handler=EmulatorHandler(consumer_function, on_result=consumed.on_result),
            on_batch=consumed.on_batch,
        ).start()
        if not esm.wait_ready(60):
            raise RuntimeError("the local event source mapping did not join its group: "
                               f"{esm.error or esm.last_processing_result} (denied actions: "
                               f"'MSK IAM DENY' lines in {broker.log_file})")
        say(f"consumer ({function.resource_name}'s package in the Lambda emulator, log "
            f"{consumer_function.log_path}) fed by the local event source mapping: batch size "
            f"{mapping.batch_size}, window {mapping.batching_window_s} s, "
            f"{mapping.starting_position}, retries {mapping.max_retry_attempts}, partial batch "
            f"responses {'on' if mapping.report_batch_item_failures else 'off'}")
        say(f"dead letters and on-failure records in {queue_url} (SQS at {aws.endpoint}, "
            f"log {aws.log_path})")
        replay_env = _write_env_file(work / "replay.env",
                                     {**broker.client_env("admin"), **aws.client_env()})
        say(f"replay them with: env $(cat {replay_env}) .venv/bin/python -m event_replay "
            f"--from sqs:{queue_url} --ledger {work / 'replay-ledger.sqlite'}")

        api_env = _api_environment(stack, broker)
        api = launch_api_server(api_env, work, port=args.port,
                                workers=int(api_env.get("WEB_CONCURRENCY") or 1))
        say(f"API listening at {api.base_url}  (try: curl '{api.base_url}/current_time?name=Ada')")
        say(f"API log {api.log_path}, broker log {broker.log_file} (MSK IAM decisions)")
        if not api.wait_ready(60):
            raise RuntimeError(f"the API did not become ready (/readyz); see {api.log_path}")

        if args.demo_events:
            ok = _demo(api.base_url, consumed, args.demo_events)
        if not args.exit_after_demo:
            say("running; Ctrl-C stops everything")
            while True:
                time.sleep(0.5)
                if api.process.poll() is not None:
                    say(f"the API exited unexpectedly ({api.process.returncode}); "
                        f"see {api.log_path}")
                    ok = False
                    break
    except KeyboardInterrupt as interrupt:  # the first SIGINT or SIGTERM (StopSignals)
        say(f"{interrupt or 'SIGINT'}: stopping (within {SHUTDOWN_BOUND_S:.0f} s; again to stop "
            "without waiting for the consumer)")
    except Exception as exc:  # noqa: BLE001 - one clear line, then the orderly shutdown below
        say(f"ERROR: {exc}")
        ok = False
    finally:
        signals.shutting_down()  # from here a signal only hurries the shutdown, never cuts it
        ok = _shutdown(api, esm, consumer_function, broker, aws, topic, consumed, hurry) and ok
    return 0 if ok else 1


def _shutdown(api, esm, consumer_function, broker: LocalKafka, aws: LocalAws, topic: str,
              consumed: ConsumedEvents, hurry: threading.Event) -> bool:
    """API, then (once the consumer has caught up) consumer, broker, SQS/S3 server. Every step
    runs even if one before it failed; False if anything was lost or failed."""
    ok = True

    def step(action, done: str = "") -> None:
        nonlocal ok
        try:
            result = action()
            if done:
                say(done.format(result))
        except Exception as exc:  # noqa: BLE001 - say it and go on stopping the rest
            say(f"ERROR while stopping: {exc!r}")
            ok = False

    if api is not None:
        step(api.terminate, "API stopped (exit {})")
    if esm is not None:
        if esm.error is None and broker.is_running():
            ok = _drain(broker, topic, consumed, hurry) and ok
        elif esm.error is not None:
            # Never exit 0 with acknowledged events unconsumed: they are still in the broker's
            # log, uncommitted, for the next start.
            say(f"ERROR: the consumer had stopped on {esm.error!r}; what it had not committed "
                f"stays in '{topic}'")
            ok = False
        esm.request_stop()
        if hurry.is_set() and consumer_function is not None:
            # The in-flight invocation fails at once and its batch stays uncommitted.
            step(consumer_function.stop, "consumer's emulator stopped")
        step(esm.stop, "consumer stopped")
    if consumer_function is not None:
        step(consumer_function.stop)
    step(broker.stop, "Kafka stopped")
    step(aws.stop, "SQS/S3 server stopped")
    return ok


if __name__ == "__main__":
    sys.exit(main())
