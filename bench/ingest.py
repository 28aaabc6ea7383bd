"""Ingest benchmark: acknowledged /current_time events per second and p50/p99 latency.

    .venv/bin/python -m bench.ingest [--seconds 10] [--concurrency 1 16 64]

Runs a real local broker (SASL_SSL + MSK IAM OAUTHBEARER), the API with its production server
settings (`python -m event_api`, WEB_CONCURRENCY workers), and a closed-loop HTTP load generator.
Beside it, in the same run, the ceiling: kafka-python's own producer with the API's producer
settings (acks=all, idempotent, same linger/batch) writing the same payloads directly, with the
same number of concurrent in-flight writers each waiting for its own acknowledgement.
Only 2xx answers count as events; anything else is reported as an error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
from pathlib import Path

from event_api.events import build_event, to_record
from event_api.kafka_producer_config import producer_config
from event_api.settings import load_settings
from kafka import KafkaProducer
from msk_iam_client import client_security_options

from bench._common import machine, summary_ms
from bench._http_load import run_load
from local.api_server import launch_api_server
from local.kafka import LocalKafka

SEND_TIMEOUT_MS = 5000
LINGER_MS = 5
BATCH_SIZE = 65_536


def _path(client_id: int, n: int) -> str:
    return f"/current_time?name=bench{client_id}x{n % 50}"


def _ceiling(producer: KafkaProducer, topic: str, concurrency: int, seconds: float):
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def writer(worker_id: int):
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            record = to_record(build_event(f"bench{worker_id}x{n % 50}"))
            started = time.perf_counter()
            try:
                producer.send(topic, value=record.value, key=record.key,
                              headers=record.headers).get(timeout=SEND_TIMEOUT_MS / 1000)
                with lock:
                    latencies.append(time.perf_counter() - started)
            except Exception:  # noqa: BLE001 - counted, the benchmark goes on
                with lock:
                    errors[0] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    args = parser.parse_args()

    with (tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp,
          LocalKafka(Path(tmp)) as broker):
        topic = "bench-ingest"
        broker.create_topic(topic, partitions=3)
        env = {**broker.client_env(), "KAFKA_SEND_TIMEOUT_MS": str(SEND_TIMEOUT_MS),
               "KAFKA_LINGER_MS": str(LINGER_MS), "KAFKA_BATCH_SIZE": str(BATCH_SIZE),
               "LOG_LEVEL": "WARNING"}
        server = launch_api_server(env, Path(tmp), topic=topic, workers=args.workers)
        os.environ.update(broker.client_env())  # the direct producer signs with the same creds
        settings = load_settings({**env, "KAFKA_TOPIC": topic})
        producer = KafkaProducer(**producer_config(
            settings, client_security_options("SASL_SSL", broker.region, str(broker.ca_file))))
        try:
            # Warm both paths: token, TLS session, metadata, worker imports.
            asyncio.run(run_load("127.0.0.1", server.port, 4, 2.0, _path))
            _ceiling(producer, topic, 4, 1.0)
            print(f"machine: {machine()}")
            print(f"API: {args.workers} uvicorn workers; broker: Kafka KRaft on loopback, "
                  f"SASL_SSL + OAUTHBEARER (MSK IAM); acks=all, idempotence "
                  f"{'on' if settings.enable_idempotence else 'off'}, linger {LINGER_MS} ms")
            print(f"{'conc':>4}  {'path':<8} {'events/s':>9}  latency")
            for concurrency in args.concurrency:
                load = asyncio.run(
                    run_load("127.0.0.1", server.port, concurrency, args.seconds, _path))
                api_rate = load.rate
                failed = load.errors + sum(n for code, n in load.statuses.items() if code != 200)
                print(f"{concurrency:>4}  {'API':<8} {api_rate:9.0f}  "
                      f"{summary_ms(load.latencies_s)}  errors {failed}")
                lat_c, err_c, elapsed_c = _ceiling(producer, topic, concurrency, args.seconds)
                ceiling_rate = len(lat_c) / elapsed_c
                print(f"{concurrency:>4}  {'ceiling':<8} {ceiling_rate:9.0f}  {summary_ms(lat_c)}"
                      f"  errors {err_c}")
                print(f"{concurrency:>4}  ratio API/ceiling: {api_rate / ceiling_rate:.2f}")
        finally:
            producer.close(timeout=10)
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
