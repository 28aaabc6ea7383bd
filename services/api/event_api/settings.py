"""Service configuration, read once from environment variables and validated at start-up.

Every bad value produces one human-readable message; `load_settings` collects them all so an
operator fixes the task definition in one go instead of one crash per variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from event_contract.kafka_names import topic_name_problem

SECURITY_PROTOCOLS = ("SASL_SSL", "PLAINTEXT")

_HOST_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(Exception):
    """Raised with every configuration problem found, one message per bad variable."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Settings:
    kafka_disabled: bool
    bootstrap_servers: tuple[str, ...]
    topic: str
    security_protocol: str
    region: str | None
    ca_file: str | None
    topic_partitions: int
    create_topic: bool
    send_timeout_ms: int
    linger_ms: int
    batch_size: int
    port: int
    bind_host: str
    web_concurrency: int
    log_level: str


class _Reader:
    """Reads typed values from the environment and records a message for each bad one."""

    def __init__(self, env: Mapping[str, str]):
        self.env = env
        self.errors: list[str] = []

    def raw(self, name: str) -> str:
        return self.env.get(name, "").strip()

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name).lower()
        if not value:
            return default
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        self.errors.append(f"{name}={self.raw(name)!r} is not a boolean (use true or false)")
        return default

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.raw(name)
        if not value:
            return default
        try:
            number = int(value, 10)
        except ValueError:
            self.errors.append(f"{name}={value!r} is not an integer")
            return default
        if not low <= number <= high:
            self.errors.append(f"{name}={number} is out of range (allowed {low}..{high})")
            return default
        return number


def _bootstrap_servers(reader: _Reader, required: bool) -> tuple[str, ...]:
    value = reader.raw("KAFKA_BOOTSTRAP_SERVERS")
    if not value:
        if required:
            reader.errors.append(
                "KAFKA_BOOTSTRAP_SERVERS is empty: set a comma-separated host:port list "
                "(or KAFKA_DISABLED=true to run without Kafka)"
            )
        return ()
    servers = []
    for item in (part.strip() for part in value.split(",")):
        host, sep, port = item.rpartition(":")
        if not sep or not _HOST_RE.fullmatch(host) or not port.isdigit() or not (
            1 <= int(port) <= 65535
        ):
            reader.errors.append(
                f"KAFKA_BOOTSTRAP_SERVERS entry {item!r} is not host:port (port 1..65535)"
            )
            continue
        servers.append(item)
    return tuple(servers)


def _topic(reader: _Reader) -> str:
    topic = reader.raw("KAFKA_TOPIC") or "events"
    problem = topic_name_problem(topic)
    if problem:
        reader.errors.append(f"KAFKA_TOPIC={topic!r} is not a legal Kafka topic name: {problem}")
    return topic


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Validate the environment; raise SettingsError listing every bad value."""
    reader = _Reader(os.environ if env is None else env)
    disabled = reader.boolean("KAFKA_DISABLED", False)
    servers = _bootstrap_servers(reader, required=not disabled)
    topic = _topic(reader)

    protocol = reader.raw("KAFKA_SECURITY_PROTOCOL").upper() or "SASL_SSL"
    if protocol not in SECURITY_PROTOCOLS:
        reader.errors.append(
            f"KAFKA_SECURITY_PROTOCOL={reader.raw('KAFKA_SECURITY_PROTOCOL')!r} is not one of "
            + ", ".join(SECURITY_PROTOCOLS)
        )

    region = reader.raw("AWS_REGION") or None
    if protocol == "SASL_SSL" and not disabled and region is None:
        reader.errors.append("AWS_REGION is required when KAFKA_SECURITY_PROTOCOL=SASL_SSL")

    ca_file = reader.raw("KAFKA_CA_FILE") or None
    if ca_file is not None and not os.path.isfile(ca_file):
        reader.errors.append(f"KAFKA_CA_FILE={ca_file!r} does not exist or is not a file")

    partitions = reader.integer("KAFKA_TOPIC_PARTITIONS", 3, 1, 10_000)
    create_topic = reader.boolean("KAFKA_CREATE_TOPIC", True)
    send_timeout_ms = reader.integer("KAFKA_SEND_TIMEOUT_MS", 5000, 100, 120_000)
    linger_ms = reader.integer("KAFKA_LINGER_MS", 5, 0, 1000)
    batch_size = reader.integer("KAFKA_BATCH_SIZE", 65_536, 1024, 16 * 1024 * 1024)
    port = reader.integer("PORT", 8000, 1, 65535)
    bind_host = reader.raw("BIND_HOST") or "0.0.0.0"  # noqa: S104 - a container must listen on all
    workers = reader.integer("WEB_CONCURRENCY", 2, 1, 64)

    log_level = (reader.raw("LOG_LEVEL") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        reader.errors.append(f"LOG_LEVEL={log_level!r} is not one of DEBUG, INFO, WARNING, ERROR")

    if reader.errors:
        raise SettingsError(reader.errors)
    return Settings(
        kafka_disabled=disabled,
        bootstrap_servers=servers,
        topic=topic,
        security_protocol=protocol,
        region=region,
        ca_file=ca_file,
        topic_partitions=partitions,
        create_topic=create_topic,
        send_timeout_ms=send_timeout_ms,
        linger_ms=linger_ms,
        batch_size=batch_size,
        port=port,
        bind_host=bind_host,
        web_concurrency=workers,
        log_level=log_level,
    )
