"""Settings of the local event source mapping, declared once: flag, environment variable, default,
rule and meaning of each option in OPTIONS. The command line, the EsmSettings defaults, the error
messages and the table in docs/configuration.md (`markdown_table`) all come from it; the Kafka
connection variables are msk_iam_client's own declaration, shared with the API and the other
tools."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from event_contract.kafka_names import group_id_problem, topic_name_problem
from msk_iam_client.connection import VARIABLES, connection_from_env

# components.limits, not settings.limits (its view of the same names): importing the settings
# package loads the stack's declarations, pulumi and the components (~0.4 s), which only the
# stack's defaults need; those are read once a configuration has passed (StackDefault).
from components import limits
from local.esm.on_failure import destination_problem

DESCRIPTION = "A local stand-in for Lambda's Amazon MSK event source mapping."
_ACCOUNT = "000000000000"  # a fake account id: nothing here talks to AWS
_CLUSTER_UUID = "00000000-0000-0000-0000-000000000000-1"
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"


class SettingsError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _number(parse: Callable[[str], Any], low: float, high: float) -> Callable[[str], Any]:
    kind = "a whole number" if parse is int else "a number"

    def check(raw: str) -> Any:
        try:
            value = parse(raw)
        except ValueError:
            raise ValueError(f"must be {kind} from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"must be {kind} from {low} to {high}")
        return value

    return check


def _one_of(*choices: str) -> Callable[[str], str]:
    def check(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(c or '(empty)' for c in choices)}")
        return raw

    return check


def _rule(problem_of: Callable[[str], str | None]) -> Callable[[str], str]:
    def check(raw: str) -> str:
        problem = problem_of(raw)
        if problem:
            raise ValueError(problem)
        return raw

    return check


def _topics(raw: str) -> tuple[str, ...]:
    topics = tuple(t.strip() for t in raw.split(",") if t.strip())
    if not topics:
        raise ValueError("is required: the topic(s) to read, comma-separated")
    for topic in topics:
        if problem := topic_name_problem(topic):
            raise ValueError(f"{topic!r}: {problem}")
    return topics


@dataclass(frozen=True)
class StackDefault:
    """The declared default of stack setting `key`, read on first use (see the imports)."""

    key: str

    def value(self) -> str:
        from settings import default as stack_default

        return str(stack_default(self.key))


@dataclass(frozen=True)
class Option:
    field: str  # EsmSettings field
    flag: str
    env: str
    declared: str | StackDefault  # the default, as it would be written in the environment
    parse: Callable[[str], Any]
    meaning: str

    @property
    def default(self) -> str:
        return self.declared.value() if isinstance(self.declared, StackDefault) else self.declared


# The deployed mapping's defaults (the stack settings' declarations) and AWS's limits for Kafka
# event source mappings (components/limits.py, each with its page): declared once, not here.
# `./dev pipeline` does not use these defaults: it takes every value from the stack's mapping.
_BATCH = limits.MSK_MAPPING_BATCH_SIZE
_WINDOW = limits.MAPPING_BATCHING_WINDOW_S
_RETRIES = limits.KAFKA_MAPPING_RETRY_ATTEMPTS
OPTIONS: tuple[Option, ...] = (
    Option("topics", "--topic", "KAFKA_TOPIC", "", _topics, "topic(s) to read (required)"),
    Option("group_id", "--group-id", "ESM_CONSUMER_GROUP_ID", StackDefault("consumerGroupId"),
           _rule(group_id_problem), "consumer group (the stack setting consumerGroupId's default)"),
    Option("batch_size", "--batch-size", "ESM_BATCH_SIZE", StackDefault("consumerBatchSize"),
           _number(int, *_BATCH), "records per invocation at most (consumerBatchSize)"),
    Option("batching_window_s", "--batching-window-s", "ESM_BATCHING_WINDOW_S",
           StackDefault("consumerBatchingWindowSeconds"), _number(float, *_WINDOW),
           "seconds to gather a batch (consumerBatchingWindowSeconds)"),
    Option("max_retry_attempts", "--max-retry-attempts", "ESM_MAX_RETRY_ATTEMPTS",
           StackDefault("consumerMaxRetryAttempts"), _number(int, *_RETRIES),
           "retries of a failed batch, -1 = until it succeeds (consumerMaxRetryAttempts)"),
    Option("retry_backoff_s", "--retry-backoff-s", "ESM_RETRY_BACKOFF_S", "0.5",
           _number(float, 0, 60), "first retry delay, doubled per retry (5 s at most)"),
    Option("starting_position", "--starting-position", "ESM_STARTING_POSITION",
           StackDefault("consumerStartingPosition"), _one_of("TRIM_HORIZON", "LATEST"),
           "where a new group starts (consumerStartingPosition)"),
    Option("on_failure", "--on-failure", "ESM_ON_FAILURE", "", _rule(destination_problem),
           "where a given-up batch's on-failure record goes: sqs:QUEUE_URL (required; default: "
           "DEAD_LETTER_QUEUE_URL's queue, as deployed)"),
    Option("report_batch_item_failures", "--function-response-types",
           "ESM_FUNCTION_RESPONSE_TYPES", "", _one_of("", REPORT_BATCH_ITEM_FAILURES),
           "ReportBatchItemFailures or empty (default: ReportBatchItemFailures when "
           "REPORT_BATCH_ITEM_FAILURES=true, as the deployed stack sets both)"),
)
_BY_FIELD = {option.field: option for option in OPTIONS}


def _declared(name: str) -> Any:
    """An EsmSettings default, parsed from its declaration."""
    option = _BY_FIELD[name]
    value = option.parse(option.default)
    return value == REPORT_BATCH_ITEM_FAILURES if name == "report_batch_item_failures" else value


def _default(name: str) -> Any:
    """The field's default, read when an EsmSettings is made without it (not at import)."""
    return field(default_factory=lambda: _declared(name))


@dataclass(frozen=True)
class EsmSettings:
    bootstrap_servers: str
    topics: tuple[str, ...]
    # sqs:QUEUE_URL, required to start a mapping (poller.py opens it); the shapes alone
    # (aws_shapes.on_failure_record) need none.
    on_failure: str = ""
    group_id: str = _default("group_id")
    security_protocol: str = "SASL_SSL"
    region: str | None = None
    ca_file: str | None = None
    batch_size: int = _default("batch_size")
    batching_window_s: float = _default("batching_window_s")
    max_retry_attempts: int = _default("max_retry_attempts")
    retry_backoff_s: float = _default("retry_backoff_s")
    starting_position: str = _default("starting_position")
    function_name: str = "event-consumer-local"
    request_timeout_ms: int = 30_000
    # FunctionResponseTypes=["ReportBatchItemFailures"]: the handler's partial batch response
    # decides what is retried (poller.py).
    report_batch_item_failures: bool = _default("report_batch_item_failures")

    @property
    def event_source_arn(self) -> str:
        region = self.region or "local"
        return f"arn:aws:kafka:{region}:{_ACCOUNT}:cluster/local/{_CLUSTER_UUID}"

    @property
    def function_arn(self) -> str:
        region = self.region or "local"
        return f"arn:aws:lambda:{region}:{_ACCOUNT}:function:{self.function_name}"


def _environment_default(option: Option, env: Mapping[str, str]) -> str | None:
    # Like the deployed mapping: on-failure records go to the dead-letter queue when there is
    # one (a mixed queue event_replay reads), and one switch turns partial batch responses on
    # for both the handler and the mapping.
    if option.field == "on_failure" and env.get("DEAD_LETTER_QUEUE_URL", "").strip():
        return f"sqs:{env['DEAD_LETTER_QUEUE_URL'].strip()}"
    if (option.field == "report_batch_item_failures"
            and env.get("REPORT_BATCH_ITEM_FAILURES", "").strip().lower() == "true"):
        return REPORT_BATCH_ITEM_FAILURES
    # A stack default (valid by declaration) is read after the given values have passed.
    return None if isinstance(option.declared, StackDefault) else option.default


def _parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m local.esm", description=DESCRIPTION)
    for name, meaning in VARIABLES.items():
        flag = "--" + name.removeprefix("KAFKA_").removeprefix("AWS_").lower().replace("_", "-")
        p.add_argument(flag, dest=name, default=env.get(name, ""), help=f"{name}: {meaning}")
    for option in OPTIONS:
        p.add_argument(option.flag, dest=option.field,
                       default=env.get(option.env, _environment_default(option, env)),
                       help=f"{option.env}: {option.meaning}")
    return p


def load_settings(
    argv: Sequence[str] | None = None, env: Mapping[str, str] = os.environ
) -> EsmSettings:
    """Flags override environment variables; every bad value is reported, not just the first."""
    args = vars(_parser(env).parse_args(argv))
    connection, problems = connection_from_env({name: args[name] for name in VARIABLES})
    values: dict[str, Any] = {}
    for option in OPTIONS:
        if args[option.field] is None:
            continue
        try:
            values[option.field] = option.parse(args[option.field].strip())
        except ValueError as err:
            problems.append(f"{option.env} ({option.flag}) = {args[option.field]!r}: {err}")
    if problems:
        raise SettingsError(problems)
    for option in OPTIONS:
        if option.field not in values:
            values[option.field] = option.parse(option.default)
    values["report_batch_item_failures"] = (
        values["report_batch_item_failures"] == REPORT_BATCH_ITEM_FAILURES)
    return EsmSettings(
        bootstrap_servers=",".join(connection.bootstrap_servers),
        security_protocol=connection.security_protocol,
        region=connection.region,
        ca_file=connection.ca_file,
        **values,
    )


def markdown_table() -> str:
    """docs/configuration.md's table of the local mapping's options, generated from OPTIONS."""
    rows = ["| Flag | Variable | Default | Meaning |", "| --- | --- | --- | --- |"]
    for option in OPTIONS:
        default = f"`{option.default}`" if option.default else "—"
        rows.append(f"| `{option.flag}` | `{option.env}` | {default} | {option.meaning} |")
    return "\n".join(rows) + "\n"
