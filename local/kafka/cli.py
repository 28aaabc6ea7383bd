"""Command line of the local broker: `python -m local.kafka start|build`.

    python -m local.kafka start [--topic T]... [--env-json PATH]
        run in the foreground until Ctrl-C; every client is authorized against the program's
        IAM policies for its principal (api, consumer, admin, ...); --env-json writes what other
        processes need to connect as any principal
    python -m local.kafka build   # only fetch the broker jars and build the validator
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from local.kafka.broker import LocalKafka
from local.kafka.jars import LIB_DIR, VALIDATOR_JAR, LocalKafkaError, ensure_jars
from local.kafka.policies import ADMIN
from local.processes import Interrupted, StopSignals


def _print_connection_info(kafka: LocalKafka, env_json: str | None) -> None:
    info = kafka.connection_info()
    print(f"Local Kafka is running (broker log: {kafka.log_file})")
    print(f"  SASL_SSL + OAUTHBEARER (MSK IAM): {kafka.sasl_bootstrap}")
    print(f"  PLAINTEXT (operator, not authorized): {kafka.plaintext_bootstrap}")
    print(f"  CA file:     {kafka.ca_file}")
    print(f"  cluster ARN: {kafka.cluster_arn}")
    if kafka.authorize:
        print(f"  IAM authorization ON: policies {kafka.policies_file} (read again when it "
              "changes); decisions are the 'MSK IAM ALLOW|DENY' lines of the broker log")
    else:
        print("  IAM authorization OFF (--no-authorization): any authenticated client may do "
              "anything")
    if kafka.grants:
        print("  granted (topic, consumer group): "
              + ", ".join(f"({t}, {g})" for t, g in kafka.grants))
    if env_json:
        print(f"Connection details for every principal: {env_json}")
    env = kafka.client_env(ADMIN)
    print("Point a client at it as one principal (AWS_* per principal below):")
    for key in ("AWS_REGION", "AWS_EC2_METADATA_DISABLED", "KAFKA_BOOTSTRAP_SERVERS",
                "KAFKA_SECURITY_PROTOCOL", "KAFKA_CA_FILE"):
        print(f"  export {key}={env[key]}")
    for name, keys in info["principals"].items():
        print(f"  {name:>10}: export AWS_ACCESS_KEY_ID={keys['access_key_id']} "
              f"AWS_SECRET_ACCESS_KEY={keys['secret_access_key']}")
    print("Ctrl-C stops it.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.kafka", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="run a broker in the foreground until Ctrl-C")
    start.add_argument("--work-dir", help="where data, certificates and logs go (default: a new "
                       "temporary directory)")
    start.add_argument("--topic", action="append", default=[],
                       help="topic to create after start and grant the program's roles on "
                       "(repeatable)")
    start.add_argument("--group", default=None,
                       help="consumer group the consumer role may use on those topics "
                       "(default: the program's, event-consumer)")
    start.add_argument("--env-json", metavar="PATH",
                       help="write bootstrap, ca_file, region, cluster_arn and every "
                       "principal's access key (JSON, owner-only) once the broker is ready")
    start.add_argument("--no-authorization", action="store_true",
                       help="do not authorize requests (only to measure what it costs)")
    sub.add_parser("build", help="fetch the broker jars and build the validator, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # the admin client's chatter

    try:
        if args.command == "build":
            ensure_jars()
            print(f"jars ready: {LIB_DIR} and {VALIDATOR_JAR}")
            return 0
        kafka = LocalKafka(args.work_dir, authorize=not args.no_authorization)
        # Explicit handlers (a shell's background job inherits SIGINT ignored): the first
        # SIGINT/SIGTERM interrupts whatever runs, starting included; the broker is then stopped
        # (<= STOP_TIMEOUT_S, then killed) and further signals wait for that.
        signals = StopSignals().install()
        try:
            kafka.start()  # stops the broker itself if interrupted
            try:
                for topic in args.topic:
                    kafka.create_topic(topic, group=args.group)
                if args.env_json:
                    kafka.write_connection_info(args.env_json)
                _print_connection_info(kafka, args.env_json)
                while kafka.is_running():
                    time.sleep(0.5)
                print(f"broker exited; last log lines:\n{kafka.log_tail()}", file=sys.stderr)
                return 1
            finally:
                signals.shutting_down()
                print("stopping local Kafka ...", flush=True)
                kafka.stop()
                if args.env_json:
                    # Stale connection details would send other processes to a dead broker.
                    Path(args.env_json).unlink(missing_ok=True)
        except Interrupted as interrupt:
            print(f"{interrupt}: local Kafka stopped", flush=True)
            return 0
    except LocalKafkaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
