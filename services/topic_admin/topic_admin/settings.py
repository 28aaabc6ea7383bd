"""The function's configuration, from environment variables, validated before any connection."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from msk_iam_client import SUPPORTED_SECURITY_PROTOCOLS

DEFAULT_REQUEST_TIMEOUT_MS = 15_000  # one Kafka request (bootstrap, metadata, create)
DEFAULT_READY_TIMEOUT_MS = 30_000  # until every partition of the topic has a leader


class SettingsError(ValueError):
    """Every configuration problem found, one message each."""


@dataclass(frozen=True)
class Settings:
    bootstrap_servers: tuple[str, ...]
    security_protocol: str
    region: str | None
    ca_file: str | None
    request_timeout_ms: int
    ready_timeout_ms: int


def _milliseconds(env: Mapping[str, str], name: str, default: int, problems: list[str]) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1_000 <= int(raw) <= 600_000:
        problems.append(f"{name}={raw!r} must be a whole number of milliseconds in 1000-600000")
        return default
    return int(raw)


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    problems: list[str] = []
    servers = tuple(s.strip() for s in env.get("KAFKA_BOOTSTRAP_SERVERS", "").split(",")
                    if s.strip())
    if not servers:
        problems.append("KAFKA_BOOTSTRAP_SERVERS is not set (host:port[,host:port...])")
    protocol = env.get("KAFKA_SECURITY_PROTOCOL", "SASL_SSL").strip() or "SASL_SSL"
    if protocol not in SUPPORTED_SECURITY_PROTOCOLS:
        problems.append(f"KAFKA_SECURITY_PROTOCOL={protocol!r} is not one of "
                        f"{', '.join(SUPPORTED_SECURITY_PROTOCOLS)}")
    region = env.get("AWS_REGION", "").strip() or None
    if protocol == "SASL_SSL" and region is None:
        problems.append("AWS_REGION is not set (MSK IAM tokens are signed for a region)")
    request_timeout = _milliseconds(env, "KAFKA_REQUEST_TIMEOUT_MS",
                                    DEFAULT_REQUEST_TIMEOUT_MS, problems)
    ready_timeout = _milliseconds(env, "KAFKA_READY_TIMEOUT_MS", DEFAULT_READY_TIMEOUT_MS,
                                  problems)
    if problems:
        raise SettingsError("; ".join(problems))
    return Settings(servers, protocol, region, env.get("KAFKA_CA_FILE", "").strip() or None,
                    request_timeout, ready_timeout)
