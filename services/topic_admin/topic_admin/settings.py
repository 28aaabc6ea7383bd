"""The function's configuration, from environment variables, validated before any connection."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from msk_iam_client.connection import connection_from_env

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
    # The connection variables: msk_iam_client's one declaration of them.
    connection, problems = connection_from_env(env)
    request_timeout = _milliseconds(env, "KAFKA_REQUEST_TIMEOUT_MS",
                                    DEFAULT_REQUEST_TIMEOUT_MS, problems)
    ready_timeout = _milliseconds(env, "KAFKA_READY_TIMEOUT_MS", DEFAULT_READY_TIMEOUT_MS,
                                  problems)
    if problems:
        raise SettingsError("; ".join(problems))
    return Settings(connection.bootstrap_servers, connection.security_protocol,
                    connection.region, connection.ca_file, request_timeout, ready_timeout)
