"""Command line of the local broker: `python -m local.kafka_broker start|build`.

    python -m local.kafka_broker start   # run in the foreground until Ctrl-C
    python -m local.kafka_broker build   # only fetch the broker jars and build the validator
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time

from local.kafka.broker import LocalKafka
from local.kafka.jars import LIB_DIR, VALIDATOR_JAR, LocalKafkaError, ensure_jars


def _print_connection_info(kafka: LocalKafka) -> None:
    env = kafka.client_env()
    print(f"Local Kafka is running (broker log: {kafka.log_file})")
    print(f"  SASL_SSL + OAUTHBEARER (MSK IAM): {kafka.sasl_bootstrap}")
    print(f"  PLAINTEXT (admin/debug):          {kafka.plaintext_bootstrap}")
    print(f"  CA file:                          {kafka.ca_file}")
    print("Point a client at it with:")
    for key, value in env.items():
        print(f"  export {key}={value}")
    print("Ctrl-C stops it.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.kafka_broker", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="run a broker in the foreground until Ctrl-C")
    start.add_argument("--work-dir", help="where data, certificates and logs go (default: a new "
                       "temporary directory)")
    start.add_argument("--topic", action="append", default=[],
                       help="topic to create after start (repeatable)")
    sub.add_parser("build", help="fetch the broker jars and build the validator, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # the admin client's chatter

    try:
        if args.command == "build":
            ensure_jars()
            print(f"jars ready: {LIB_DIR} and {VALIDATOR_JAR}")
            return 0
        kafka = LocalKafka(args.work_dir)
        stop_requested = False

        def request_stop(signum: int, frame: object) -> None:
            nonlocal stop_requested
            stop_requested = True

        # Explicit handlers: a shell's background job inherits SIGINT as ignored.
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        kafka.start()
        try:
            for topic in args.topic:
                kafka.create_topic(topic)
            _print_connection_info(kafka)
            while not stop_requested and kafka.is_running():
                time.sleep(0.5)
            if not kafka.is_running() and not stop_requested:
                print(f"broker exited; last log lines:\n{kafka.log_tail()}", file=sys.stderr)
                return 1
        finally:
            print("stopping local Kafka ...", flush=True)
            kafka.stop()
        return 0
    except LocalKafkaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
