"""Service configuration, read once from environment variables and validated at start-up.

Each variable is declared once below (`VARIABLES`: name, default, allowed values, description);
the reader, the error messages and docs/configuration.md's table (`markdown_table`, kept in step
by a test) all come from that declaration. Every bad value produces one human-readable message;
`load_settings` collects them all so an operator fixes the task definition in one go.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from event_contract.kafka_names import TOPIC_RULE, topic_name_problem

SECURITY_PROTOCOLS = ("SASL_SSL", "PLAINTEXT")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# "By default, ELB sets the idle timeout value for your load balancer to 60 seconds" and "configure
# the idle timeout of your application to be larger than the idle timeout configured for the load
# balancer", or the ALB may send a request on a connection the app is closing: a 502
# (Edit attributes for your Application Load Balancer, "Connection idle timeout",
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html).
ALB_DEFAULT_IDLE_TIMEOUT_S = 60
DEFAULT_KEEPALIVE_TIMEOUT_S = ALB_DEFAULT_IDLE_TIMEOUT_S + 15
# The ALB's own HTTP header quotas: "Request line 16 K", "Single header 16 K", "Whole request
# header 64 K" (Quotas for your Application Load Balancers, "HTTP headers",
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html).
# Our bound on a request's head (request line + header fields) is a little above what the ALB
# lets through (16 K + 64 K) plus the X-Forwarded-*/X-Amzn-Trace-Id fields it adds, so it never
# refuses what the ALB forwards, and still bounds a worker's memory when reached directly.
ALB_MAX_REQUEST_LINE_BYTES = 16 * 1024
ALB_MAX_REQUEST_HEADERS_BYTES = 64 * 1024
DEFAULT_MAX_REQUEST_HEAD_BYTES = 96 * 1024
# The ALB has no quota on the number of header fields; 100 is Apache httpd's LimitRequestFields
# default, far above what clients send, and bounds the per-field overhead of tiny fields.
DEFAULT_MAX_REQUEST_HEADERS = 100

_HOST_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(Exception):
    """Raised with every configuration problem found, one message per bad variable."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


class _Invalid(ValueError):
    """One variable's value is unusable; the message completes "NAME=value ..."."""


# --- rules: how a raw (stripped, non-empty) value is parsed, and what is allowed -------------


@dataclass(frozen=True)
class Rule:
    parse: Callable[[str], Any]  # returns the value or raises _Invalid
    allowed: str  # for the documented table


def _boolean(raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise _Invalid("is not a boolean (use true or false)")


def _integer(low: int, high: int) -> Rule:
    def parse(raw: str) -> int:
        try:
            number = int(raw, 10)
        except ValueError:
            raise _Invalid("is not an integer") from None
        if not low <= number <= high:
            raise _Invalid(f"is out of range (allowed {low}..{high})")
        return number

    return Rule(parse, f"{low}..{high}")


def _choice(choices: tuple[str, ...]) -> Rule:
    def parse(raw: str) -> str:
        if raw.upper() not in choices:
            raise _Invalid("is not one of " + ", ".join(choices))
        return raw.upper()

    return Rule(parse, " / ".join(choices))


def _topic(raw: str) -> str:
    problem = topic_name_problem(raw)
    if problem:
        raise _Invalid(f"is not a legal Kafka topic name: {problem}")
    return raw


def _servers(raw: str) -> tuple[str, ...]:
    servers = tuple(part.strip() for part in raw.split(","))
    bad = [item for item in servers if not _is_host_port(item)]
    if bad:
        raise _Invalid("has entries that are not host:port (port 1..65535): "
                       + ", ".join(repr(item) for item in bad))
    return servers


def _is_host_port(item: str) -> bool:
    host, sep, port = item.rpartition(":")
    return bool(sep and _HOST_RE.fullmatch(host) and port.isdigit()
                and 1 <= int(port) <= 65535)


def _existing_file(raw: str) -> str:
    if not os.path.isfile(raw):
        raise _Invalid("does not exist or is not a file")
    return raw


BOOLEAN = Rule(_boolean, "true / false")
TOPIC = Rule(_topic, TOPIC_RULE)
SERVERS = Rule(_servers, "host:port[,host:port...]")
FILE = Rule(_existing_file, "path of an existing file")
TEXT = Rule(lambda raw: raw, "text")


@dataclass(frozen=True)
class Variable:
    """One environment variable: the Settings field it fills, its default and its rule."""

    name: str
    field: str
    default: Any
    rule: Rule
    description: str


VARIABLES: tuple[Variable, ...] = (
    Variable("KAFKA_BOOTSTRAP_SERVERS", "bootstrap_servers", (), SERVERS,
             "Kafka bootstrap brokers; required unless KAFKA_DISABLED=true"),
    Variable("KAFKA_TOPIC", "topic", "events", TOPIC,
             "topic the events are written to; it must exist (created at deploy time): "
             "the API only waits for it"),
    Variable("KAFKA_SECURITY_PROTOCOL", "security_protocol", "SASL_SSL",
             _choice(SECURITY_PROTOCOLS),
             "SASL_SSL signs in with MSK IAM (OAUTHBEARER); PLAINTEXT for a local broker"),
    Variable("AWS_REGION", "region", None, TEXT,
             "region of the MSK IAM token; required with SASL_SSL"),
    Variable("KAFKA_CA_FILE", "ca_file", None, FILE,
             "extra CA bundle for the broker's TLS certificate (only the local broker needs it)"),
    Variable("KAFKA_ENABLE_IDEMPOTENCE", "enable_idempotence", False, BOOLEAN,
             "idempotent producer; the Pulumi program decides it and grants "
             "kafka-cluster:WriteDataIdempotently to match"),
    Variable("KAFKA_SEND_TIMEOUT_MS", "send_timeout_ms", 5000, _integer(100, 20_000),
             "budget for one event's acknowledgement (acks=all); past it the answer is 503. "
             "At most 20 s so a stop answers every request before ECS's SIGKILL (30 s)"),
    Variable("KAFKA_LINGER_MS", "linger_ms", 0, _integer(0, 1000),
             "producer linger; 0 sends a lone event at once, and under load events still "
             "share produce requests while one is in flight"),
    Variable("KAFKA_BATCH_SIZE", "batch_size", 65_536, _integer(1024, 16 * 1024 * 1024),
             "producer batch size in bytes, per partition"),
    Variable("KAFKA_IO_ON_EVENT_LOOP", "kafka_io_on_event_loop", True, BOOLEAN,
             "kafka-python's network work runs on the worker's event loop (no hand-off to and "
             "from its sender thread per event); false uses kafka-python's own sender thread"),
    Variable("KAFKA_DISABLED", "kafka_disabled", False, BOOLEAN,
             "run without Kafka: /hello and /healthcheck work, /readyz and /current_time "
             "answer 503"),
    Variable("PORT", "port", 8000, _integer(1, 65535), "TCP port the server listens on"),
    Variable("BIND_HOST", "bind_host", "0.0.0.0", TEXT,  # noqa: S104 - a container listens on all
             "address the server binds"),
    # One worker by default: the program's tasks have 256 or 512 CPU units, and "1024 CPU units
    # is the equivalent of 1 vCPU" (AWS re:Post knowledge center, "ecs cpu allocation",
    # https://www.repost.aws/knowledge-center/ecs-cpu-allocation; task sizes "256 (.25 vCPU)",
    # "512 (.5 vCPU)": Troubleshoot Amazon ECS task definition invalid CPU or memory errors,
    # https://docs.aws.amazon.com/AmazonECS/latest/userguide/task-cpu-memory-error.html).
    # Measured on 2 cores too, one worker matched or beat two at every load (bench/RESULTS.md).
    Variable("WEB_CONCURRENCY", "web_concurrency", 1, _integer(1, 64),
             "worker processes, each with its own Kafka producer; one per vCPU of the task "
             "at most (a second worker on one core only halves each producer's batches)"),
    Variable("HTTP_KEEPALIVE_TIMEOUT_S", "keepalive_timeout_s", DEFAULT_KEEPALIVE_TIMEOUT_S,
             _integer(1, 4100),
             "idle kept-alive connections are closed after this; must exceed the load "
             f"balancer's idle timeout (ALB default {ALB_DEFAULT_IDLE_TIMEOUT_S} s)"),
    Variable("HTTP_REQUEST_READ_TIMEOUT_S", "request_read_timeout_s", 10, _integer(1, 300),
             "a request (headers, and a body if any) must arrive within this of its first byte, "
             "or of the connection's opening; slower clients get 408 and are disconnected"),
    Variable("HTTP_MAX_CONNECTIONS", "max_connections", 1000, _integer(1, 60_000),
             "open connections per worker; more are answered 503 and closed at once"),
    Variable("HTTP_MAX_REQUEST_HEAD_BYTES", "max_request_head_bytes",
             DEFAULT_MAX_REQUEST_HEAD_BYTES, _integer(8192, 1024 * 1024),
             "bytes of a request's head (request line and header fields); a larger one is "
             "answered 431 and the connection closed. Above the ALB's own limits (request line "
             "16 K + request headers 64 K)"),
    Variable("HTTP_MAX_REQUEST_HEADERS", "max_request_headers", DEFAULT_MAX_REQUEST_HEADERS,
             _integer(16, 10_000),
             "header fields per request; more are answered 431 and the connection closed"),
    Variable("LOG_LEVEL", "log_level", "INFO", _choice(LOG_LEVELS),
             "log level; no level writes credentials, signatures or tokens"),
)


@dataclass(frozen=True)
class Settings:
    """The validated values; defaults and rules live in VARIABLES."""

    bootstrap_servers: tuple[str, ...]
    topic: str
    security_protocol: str
    region: str | None
    ca_file: str | None
    enable_idempotence: bool
    send_timeout_ms: int
    linger_ms: int
    batch_size: int
    kafka_io_on_event_loop: bool
    kafka_disabled: bool
    port: int
    bind_host: str
    web_concurrency: int
    keepalive_timeout_s: int
    request_read_timeout_s: int
    max_connections: int
    max_request_head_bytes: int
    max_request_headers: int
    log_level: str


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Validate the environment; raise SettingsError listing every bad value."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    errors: list[str] = []
    for variable in VARIABLES:
        raw = env.get(variable.name, "").strip()
        values[variable.field] = variable.default
        if raw:
            try:
                values[variable.field] = variable.rule.parse(raw)
            except _Invalid as exc:
                errors.append(f"{variable.name}={raw!r} {exc}")
    errors += _cross_checks(values, env)
    if errors:
        raise SettingsError(errors)
    return Settings(**values)


def _cross_checks(values: dict[str, Any], env: Mapping[str, str]) -> list[str]:
    errors = []
    kafka = not values["kafka_disabled"]
    if kafka and not env.get("KAFKA_BOOTSTRAP_SERVERS", "").strip():
        errors.append("KAFKA_BOOTSTRAP_SERVERS is empty: set a comma-separated host:port list "
                      "(or KAFKA_DISABLED=true to run without Kafka)")
    if kafka and values["security_protocol"] == "SASL_SSL" and values["region"] is None:
        errors.append("AWS_REGION is required when KAFKA_SECURITY_PROTOCOL=SASL_SSL")
    return errors


def markdown_table() -> str:
    """docs/configuration.md's table of the API's environment variables, from the declarations
    above."""
    rows = ["| variable | default | allowed | what it does |", "|---|---|---|---|"]
    for v in VARIABLES:
        default = "(none)" if v.default in (None, ()) else str(v.default).lower() \
            if isinstance(v.default, bool) else str(v.default)
        rows.append(f"| `{v.name}` | `{default}` | {v.rule.allowed} | {v.description} |")
    return "\n".join(rows)
