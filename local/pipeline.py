"""The whole pipeline on this machine in one command: `./dev pipeline` (`python -m local.pipeline`).

It starts, in order:
1. a real Apache Kafka broker (KRaft) with TLS and MSK IAM authentication (`local.kafka_broker`);
2. the API's production server (`python -m event_api`) writing over SASL_SSL + OAUTHBEARER;
3. a local SQS/S3-compatible server (`local.aws`, moto's server mode) holding the dead-letter queue
   and bucket, reached through the real boto3 code paths (AWS_ENDPOINT_URL_SQS/_S3);
4. the local MSK event source mapping (`local.esm`) feeding the Lambda handler in-process; the
   handler dead-letters to that queue (large letters to the bucket) and the mapping writes its
   on-failure records to the same queue, like the deployed stack (a mixed queue for `event_replay`);
then sends a few demo events through the API and shows each one consumed by the handler.

It keeps running (printing where the API listens) until Ctrl-C, or exits after the demo with
`--exit-after-demo`. Shutdown goes API → consumer → broker → SQS/S3 server and first waits until
the consumer has committed everything in the topic, so nothing the API acknowledged is left
unconsumed. (The local SQS/S3 server keeps its queue in memory: replay before stopping.)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from local.api_server import launch_api_server
from local.aws import LocalAws
from local.esm import BatchOutcome, EsmSettings, LocalEventSourceMapping
from local.kafka import LocalKafka

TOPIC = "events"
DRAIN_TIMEOUT_S = 60.0


def say(message: str) -> None:
    print(f"[pipeline] {message}", file=sys.stderr, flush=True)


class ConsumedEvents:
    """What the handler's `process` saw, so the demo can show (and wait for) each event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: set[str] = set()
        self.committed: dict[str, int] = {}

    def process(self, event, meta) -> None:
        from event_consumer.process import lag_ms, process

        process(event, meta)  # the default: one structured log line
        with self._lock:
            self._ids.add(event["event_id"])
        say(f"consumed {event['event_id']}  {event['message']!r}  "
            f"partition {meta.partition} offset {meta.offset}  lag {lag_ms(event)} ms")

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


def _end_offsets(broker: LocalKafka) -> dict[str, int]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=broker.plaintext_bootstrap,
                             request_timeout_ms=10_000)
    try:
        partitions = [TopicPartition(TOPIC, p) for p in consumer.partitions_for_topic(TOPIC)]
        return {f"{tp.topic}-{tp.partition}": off
                for tp, off in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def _drain(broker: LocalKafka, consumed: ConsumedEvents) -> bool:
    """Wait until the mapping has committed up to the end of every partition."""
    ends = _end_offsets(broker)
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        behind = {k: v for k, v in ends.items() if v and consumed.committed.get(k, 0) < v}
        if not behind:
            say(f"all {sum(ends.values())} records in '{TOPIC}' consumed and committed")
            return True
        time.sleep(0.2)
    say(f"WARNING: consumer still behind after {DRAIN_TIMEOUT_S:.0f} s: {behind} "
        f"(committed {consumed.committed}); the records stay in the broker's log")
    return False


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.pipeline",
                                     description=__doc__.split("\n")[0])
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

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="event-pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    say(f"work dir {work}")
    broker = LocalKafka(work / "kafka")
    aws = LocalAws(work / "aws")
    api = esm = None
    consumed = ConsumedEvents()
    ok = True
    try:
        say("starting Kafka (KRaft, TLS, MSK IAM authentication and authorization) ...")
        broker.start()
        broker.create_topic(TOPIC, partitions=3)
        # This process signs MSK IAM tokens for the consumer as the consumer role's principal.
        os.environ.update(broker.client_env("consumer"))
        say(f"Kafka SASL_SSL {broker.sasl_bootstrap}, PLAINTEXT {broker.plaintext_bootstrap}, "
            f"CA {broker.ca_file}")

        say("starting the local SQS/S3 server (dead-letter queue and bucket) ...")
        aws.start()
        queue_url = aws.create_queue("event-dead-letters")
        dead_letter_env = {**aws.client_env(), "DEAD_LETTER_QUEUE_URL": queue_url,
                           "DEAD_LETTER_BUCKET": aws.create_bucket("event-dead-letters")}
        os.environ.update(dead_letter_env)  # the handler reads its sink from the environment

        from event_consumer.handler import build_handler

        esm = LocalEventSourceMapping(
            EsmSettings(bootstrap_servers=broker.sasl_bootstrap, topics=(TOPIC,),
                        on_failure=f"sqs:{queue_url}",
                        region=broker.region, ca_file=str(broker.ca_file),
                        batching_window_s=0.2),
            handler=build_handler(process_fn=consumed.process, report_failures=False),
            on_batch=consumed.on_batch,
        ).start()
        if not esm.wait_ready(60):
            raise RuntimeError("the local event source mapping did not join its group: "
                               f"{esm.error or esm.last_processing_result} (denied actions: "
                               f"'MSK IAM DENY' lines in {broker.log_file})")
        say("consumer (local event source mapping → Lambda handler) ready; dead letters and "
            f"on-failure records in {queue_url} (SQS at {aws.endpoint}, log {aws.log_path})")
        replay_env = _write_env_file(work / "replay.env",
                                     {**broker.client_env("admin"), **aws.client_env()})
        say(f"replay them with: env $(cat {replay_env}) .venv/bin/python -m event_replay "
            f"--from sqs:{queue_url} --ledger {work / 'replay-ledger.sqlite'}")

        api = launch_api_server(broker.client_env("api"), work, topic=TOPIC, port=args.port)
        say(f"API listening at {api.base_url}  (try: curl '{api.base_url}/current_time?name=Ada')")
        say(f"API log {api.log_path}, broker log {broker.log_file} (MSK IAM decisions)")
        if not api.wait_ready(60):
            raise RuntimeError(f"the API did not become ready (/readyz); see {api.log_path}")

        if args.demo_events:
            ok = _demo(api.base_url, consumed, args.demo_events)
        if not args.exit_after_demo:
            say("running; Ctrl-C stops everything")
            while not stop.wait(0.5):
                if api.process.poll() is not None:
                    say(f"the API exited unexpectedly ({api.process.returncode}); "
                        f"see {api.log_path}")
                    ok = False
                    break
    except KeyboardInterrupt:
        say("Ctrl-C: stopping")
    except Exception as exc:  # noqa: BLE001 - one clear line, then the orderly shutdown below
        say(f"ERROR: {exc}")
        ok = False
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown
        if api is not None:
            code = api.terminate()
            say(f"API stopped (exit {code})")
        if esm is not None and broker.is_running():
            if esm.error is None:
                ok = _drain(broker, consumed) and ok
            esm.stop()
            say("consumer stopped")
        broker.stop()
        say("Kafka stopped")
        aws.stop()
        say("SQS/S3 server stopped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
