"""Settings of the local event source mapping: flags over environment variables, all validated."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from local.esm.on_failure import destination_problem

DESCRIPTION = "A local stand-in for Lambda's Amazon MSK event source mapping."
_ACCOUNT = "000000000000"  # a fake account id: nothing here talks to AWS
_CLUSTER_UUID = "00000000-0000-0000-0000-000000000000-1"


class SettingsError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class EsmSettings:
    bootstrap_servers: str
    topics: tuple[str, ...]
    on_failure: str = "jsonl:esm-on-failure.jsonl"
    group_id: str = "event-consumer"
    security_protocol: str = "SASL_SSL"
    region: str | None = None
    ca_file: str | None = None
    batch_size: int = 100
    batching_window_s: float = 0.5  # AWS's default for Kafka sources
    max_retry_attempts: int = 3
    retry_backoff_s: float = 0.5
    starting_position: str = "TRIM_HORIZON"
    function_name: str = "event-consumer-local"
    request_timeout_ms: int = 30_000
    # FunctionResponseTypes=["ReportBatchItemFailures"]: the handler's partial batch response
    # decides what is retried (poller.py); set it with REPORT_BATCH_ITEM_FAILURES=true.
    report_batch_item_failures: bool = False

    @property
    def event_source_arn(self) -> str:
        region = self.region or "local"
        return f"arn:aws:kafka:{region}:{_ACCOUNT}:cluster/local/{_CLUSTER_UUID}"

    @property
    def function_arn(self) -> str:
        region = self.region or "local"
        return f"arn:aws:lambda:{region}:{_ACCOUNT}:function:{self.function_name}"


def _number(problems: list[str], name: str, text: str, low, high, parse=int):
    """`parse(text)` within [low, high]; a problem is recorded (and `low` returned) otherwise."""
    try:
        value = parse(text)
    except ValueError:
        kind = "an integer" if parse is int else "a number"
        problems.append(f"{name} must be {kind}, got {text!r}")
        return low
    if not low <= value <= high:
        problems.append(f"{name} must be between {low} and {high}, got {value}")
    return value


def _int(problems: list[str], name: str, text: str, low: int, high: int) -> int:
    return _number(problems, name, text, low, high, int)


def _float(problems: list[str], name: str, text: str, low: float, high: float) -> float:
    return _number(problems, name, text, low, high, float)


def _parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    e = env.get
    p = argparse.ArgumentParser(prog="python -m local.esm", description=DESCRIPTION)
    p.add_argument("--bootstrap-servers", default=e("KAFKA_BOOTSTRAP_SERVERS", ""))
    p.add_argument("--topic", default=e("KAFKA_TOPIC", ""), help="comma-separated topics")
    p.add_argument("--group-id", default=e("ESM_CONSUMER_GROUP_ID", "event-consumer"))
    p.add_argument("--security-protocol", default=e("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"))
    p.add_argument("--region", default=e("AWS_REGION", ""))
    p.add_argument("--ca-file", default=e("KAFKA_CA_FILE", ""))
    p.add_argument("--batch-size", default=e("ESM_BATCH_SIZE", "100"))
    p.add_argument("--batching-window-s", default=e("ESM_BATCHING_WINDOW_S", "0.5"))
    p.add_argument("--max-retry-attempts", default=e("ESM_MAX_RETRY_ATTEMPTS", "3"))
    p.add_argument("--retry-backoff-s", default=e("ESM_RETRY_BACKOFF_S", "0.5"))
    p.add_argument("--starting-position", default=e("ESM_STARTING_POSITION", "TRIM_HORIZON"))
    # Like the deployed mapping: the on-failure records go to the dead-letter queue when there is
    # one (a mixed queue that event_replay reads), else to a local file.
    queue = e("DEAD_LETTER_QUEUE_URL", "").strip()
    p.add_argument(
        "--on-failure",
        default=e("ESM_ON_FAILURE", f"sqs:{queue}" if queue else "jsonl:esm-on-failure.jsonl"),
        help="sqs:QUEUE_URL, jsonl:PATH or sqlite:PATH",
    )
    # One switch for both sides, as the deployed stack sets them together: the handler's
    # REPORT_BATCH_ITEM_FAILURES=true also turns the mapping's response type on.
    reporting = e("REPORT_BATCH_ITEM_FAILURES", "").strip().lower() == "true"
    p.add_argument("--function-response-types",
                   default=e("ESM_FUNCTION_RESPONSE_TYPES",
                             "ReportBatchItemFailures" if reporting else ""),
                   help="ReportBatchItemFailures, or empty")
    return p


def load_settings(
    argv: Sequence[str] | None = None, env: Mapping[str, str] = os.environ
) -> EsmSettings:
    """Flags override environment variables; every bad value is reported, not just the first."""
    args = _parser(env).parse_args(argv)
    problems: list[str] = []
    if not args.bootstrap_servers.strip():
        problems.append("KAFKA_BOOTSTRAP_SERVERS (--bootstrap-servers) is required")
    topics = tuple(t.strip() for t in args.topic.split(",") if t.strip())
    if not topics:
        problems.append("KAFKA_TOPIC (--topic) is required")
    if args.security_protocol not in ("SASL_SSL", "PLAINTEXT"):
        problems.append(
            f"KAFKA_SECURITY_PROTOCOL must be SASL_SSL or PLAINTEXT, got {args.security_protocol!r}"
        )
    if args.security_protocol == "SASL_SSL" and not args.region:
        problems.append("AWS_REGION (--region) is required for SASL_SSL (MSK IAM tokens)")
    if args.ca_file and not os.path.isfile(args.ca_file):
        problems.append(f"KAFKA_CA_FILE {args.ca_file!r} is not a file")
    if args.starting_position not in ("TRIM_HORIZON", "LATEST"):
        problems.append(
            f"ESM_STARTING_POSITION must be TRIM_HORIZON or LATEST, got {args.starting_position!r}"
        )
    response_types = [t.strip() for t in args.function_response_types.split(",") if t.strip()]
    if set(response_types) - {"ReportBatchItemFailures"}:
        problems.append("ESM_FUNCTION_RESPONSE_TYPES must be ReportBatchItemFailures or empty, "
                        f"got {args.function_response_types!r}")
    dest_problem = destination_problem(args.on_failure)
    if dest_problem:
        problems.append(f"ESM_ON_FAILURE (--on-failure): {dest_problem}")
    settings = EsmSettings(
        bootstrap_servers=args.bootstrap_servers.strip(),
        topics=topics,
        on_failure=args.on_failure,
        group_id=args.group_id,
        security_protocol=args.security_protocol,
        region=args.region or None,
        ca_file=args.ca_file or None,
        # Limits as AWS documents them for Kafka event source mappings.
        batch_size=_int(problems, "ESM_BATCH_SIZE", args.batch_size, 1, 10_000),
        batching_window_s=_float(problems, "ESM_BATCHING_WINDOW_S", args.batching_window_s, 0, 300),
        max_retry_attempts=_int(
            problems, "ESM_MAX_RETRY_ATTEMPTS", args.max_retry_attempts, -1, 10_000
        ),
        retry_backoff_s=_float(problems, "ESM_RETRY_BACKOFF_S", args.retry_backoff_s, 0, 60),
        starting_position=args.starting_position,
        report_batch_item_failures="ReportBatchItemFailures" in response_types,
    )
    if problems:
        raise SettingsError(problems)
    return settings
