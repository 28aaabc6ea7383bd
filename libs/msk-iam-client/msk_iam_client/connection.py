"""The Kafka connection every client of the pipeline reads from its environment, declared once.

KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, AWS_REGION and KAFKA_CA_FILE mean the same to
the topic provisioner, the replay tool and the local event source mapping (and to the API, whose
settings table uses these rules): one set of rules and messages here, so a value one of them
accepts is never refused by another.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from msk_iam_client.protocols import SUPPORTED_SECURITY_PROTOCOLS

_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")

# name -> what it means; the tools' --help and docs/configuration.md name these.
VARIABLES = {
    "KAFKA_BOOTSTRAP_SERVERS": "comma list of host:port (MSK's SASL/IAM bootstrap string)",
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL (MSK IAM via OAUTHBEARER, default) or PLAINTEXT "
                               "(local debugging only)",
    "AWS_REGION": "the region MSK IAM tokens are signed for (required with SASL_SSL)",
    "KAFKA_CA_FILE": "a CA bundle to trust (the local broker's); MSK's chain needs none",
}


@dataclass(frozen=True)
class KafkaConnection:
    bootstrap_servers: tuple[str, ...]
    security_protocol: str = "SASL_SSL"
    region: str | None = None
    ca_file: str | None = None

    def client_options(self) -> dict[str, Any]:
        """kafka-python keyword arguments: the servers and the MSK IAM (or plaintext) security."""
        # Imported here: reading the environment (connection_from_env) needs none of the token
        # code's botocore and kafka-python, so a bad setting is reported before they load.
        from msk_iam_client.token_provider import client_security_options

        return {"bootstrap_servers": list(self.bootstrap_servers),
                **client_security_options(self.security_protocol, self.region, self.ca_file)}


def bootstrap_problem(value: str) -> str | None:
    """None if `value` is a comma list of host:port, else what is wrong with it."""
    items = [item.strip() for item in value.split(",")]
    if not value.strip() or not all(items):
        return "must be a comma-separated list of host:port"
    for item in items:
        host, sep, port = item.rpartition(":")
        if not (sep and _HOST.fullmatch(host) and port.isdigit() and 1 <= int(port) <= 65535):
            return f"entry {item!r} is not host:port (port 1..65535)"
    return None


def connection_from_env(env: Mapping[str, str]) -> tuple[KafkaConnection | None, list[str]]:
    """The connection the environment describes, or None and one message per bad variable."""
    problems: list[str] = []
    servers = env.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if not servers:
        problems.append(f"KAFKA_BOOTSTRAP_SERVERS is required: "
                        f"{VARIABLES['KAFKA_BOOTSTRAP_SERVERS']}")
    elif problem := bootstrap_problem(servers):
        problems.append(f"KAFKA_BOOTSTRAP_SERVERS={servers!r}: {problem}")
    protocol = env.get("KAFKA_SECURITY_PROTOCOL", "").strip().upper() or "SASL_SSL"
    if protocol not in SUPPORTED_SECURITY_PROTOCOLS:
        problems.append(f"KAFKA_SECURITY_PROTOCOL={protocol!r} is not one of "
                        f"{', '.join(SUPPORTED_SECURITY_PROTOCOLS)}")
    region = env.get("AWS_REGION", "").strip() or None
    if protocol == "SASL_SSL" and region is None:
        problems.append("AWS_REGION is required with KAFKA_SECURITY_PROTOCOL=SASL_SSL "
                        "(MSK IAM tokens are signed for a region)")
    ca_file = env.get("KAFKA_CA_FILE", "").strip() or None
    if ca_file is not None and not os.path.isfile(ca_file):
        problems.append(f"KAFKA_CA_FILE={ca_file!r} does not exist or is not a file")
    if problems:
        return None, problems
    return KafkaConnection(tuple(s.strip() for s in servers.split(",")), protocol, region,
                           ca_file), []
