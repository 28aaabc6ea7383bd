"""End-to-end benchmark: from the API's acknowledgement to the handler's `process` call.

    .venv/bin/python -m bench.e2e_latency [--rate 50] [--seconds 10] [--batching-window 0.5]

A real local broker (SASL_SSL + MSK IAM), the API's production server, and the local MSK event
source mapping running the real Lambda handler with the given batching window. Clients send
/current_time at a steady rate; for every acknowledged event the latency is the time from the
200 answer to the moment `process` is called with that event id.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx
from event_consumer.handler import build_handler
from event_consumer.sqs_sink import SqsDeadLetterSink

from bench._common import machine, summary_ms
from local.api_server import launch_api_server
from local.aws import LocalAws
from local.esm import EsmSettings, LocalEventSourceMapping
from local.kafka import LocalKafka


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batching-window", type=float, default=0.5,
                        help="batching window in seconds (AWS default for Kafka: 0.5)")
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()

    processed_at: dict[str, float] = {}
    lock = threading.Lock()

    def record(event, meta):
        with lock:
            processed_at.setdefault(event["event_id"], time.time())

    with (tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp,
          LocalKafka(Path(tmp) / "kafka") as broker, LocalAws(Path(tmp) / "aws") as aws):
        topic = "bench-e2e"
        broker.create_topic(topic, partitions=3)
        # The in-process mapping signs as the consumer; its dead letters and on-failure records
        # go to the local SQS/S3 server (which takes any credentials), as deployed.
        os.environ.update({**aws.client_env(), **broker.client_env("consumer")})
        queue_url, bucket = aws.create_queue("bench-e2e-dlq"), aws.create_bucket("bench-e2e-dl")
        esm = LocalEventSourceMapping(
            EsmSettings(bootstrap_servers=broker.sasl_bootstrap, topics=(topic,),
                        region=broker.region, ca_file=str(broker.ca_file),
                        batching_window_s=args.batching_window, batch_size=args.batch_size,
                        on_failure=f"sqs:{queue_url}"),
            handler=build_handler(sink=SqsDeadLetterSink(queue_url, bucket), process_fn=record),
        ).start()
        server = launch_api_server({**broker.client_env("api"), "LOG_LEVEL": "WARNING"}, Path(tmp),
                                   topic=topic)
        try:
            if not (esm.wait_ready(90) and server.wait_ready(60)):
                raise SystemExit("pipeline did not become ready")
            acked_at: dict[str, float] = {}
            interval = 1.0 / args.rate
            with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
                next_send = time.monotonic()
                deadline = next_send + args.seconds
                n = 0
                while time.monotonic() < deadline:
                    n += 1
                    response = client.get("/current_time", params={"name": f"e2e{n % 20}"})
                    if response.status_code == 200:
                        acked_at[response.headers["x-event-id"]] = time.time()
                    next_send += interval
                    time.sleep(max(0.0, next_send - time.monotonic()))
            wait_until = time.monotonic() + 60
            while time.monotonic() < wait_until:
                with lock:
                    if all(e in processed_at for e in acked_at):
                        break
                time.sleep(0.1)
            with lock:
                latencies = [processed_at[e] - t for e, t in acked_at.items() if e in processed_at]
            missing = len(acked_at) - len(latencies)
            print(f"machine: {machine()}")
            print(f"rate {args.rate:.0f}/s for {args.seconds:.0f} s, batching window "
                  f"{args.batching_window} s, batch size {args.batch_size}: "
                  f"{len(acked_at)} acknowledged, {missing} not processed")
            print(f"ack -> process: {summary_ms(latencies)}")
        finally:
            server.stop()
            esm.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
