"""The Lambda entry point: validate the request and the environment, then provision the topic.

A bad request, bad configuration, a refused shrink or an unreachable cluster fails the
invocation with one clear message (the `aws.lambda_.Invocation` then fails the deploy). Logs
are JSON through the function's logging configuration; signing material never reaches them.
"""

from __future__ import annotations

import logging
from typing import Any

import log_redaction
from kafka import KafkaAdminClient
from kafka.errors import KafkaConnectionError, KafkaTimeoutError
from msk_iam_client import client_security_options

from topic_admin.provision import ensure_topic
from topic_admin.request import parse_request
from topic_admin.settings import Settings, load_settings

log = logging.getLogger("topic_admin")


class ProvisioningFailed(RuntimeError):
    """What the deploy shows when the topic could not be provisioned."""


# kafka-python reports a refused token and an unreachable broker alike (no bootstrap within the
# timeout): say what to check.
UNREACHABLE_HINT = (
    "could not connect to or authenticate with the Kafka cluster at {servers} within {ms} ms: "
    "check that the function's security group may reach the cluster (and the cluster's group "
    "admits it) and that its role holds kafka-cluster:Connect on the cluster")


def _reason(error: Exception, settings: Settings | None) -> str:
    if settings is not None and isinstance(error, KafkaTimeoutError | KafkaConnectionError):
        return UNREACHABLE_HINT.format(servers=",".join(settings.bootstrap_servers),
                                       ms=settings.request_timeout_ms) + f" ({error})"
    return f"{type(error).__name__}: {error}"


def admin_client(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=list(settings.bootstrap_servers),
        client_id="topic-admin",
        request_timeout_ms=settings.request_timeout_ms,
        bootstrap_timeout_ms=settings.request_timeout_ms,
        **client_security_options(settings.security_protocol, settings.region,
                                  settings.ca_file),
    )


def lambda_handler(event: Any, context: Any = None) -> dict[str, object]:
    log_redaction.install()
    settings = None
    try:
        request = parse_request(event)
        settings = load_settings()
        admin = admin_client(settings)
        try:
            outcome = ensure_topic(admin, request.topic, request.partitions,
                                   ready_timeout_ms=settings.ready_timeout_ms)
        finally:
            admin.close()
    except Exception as error:  # noqa: BLE001 - every failure becomes one clear message
        message = _reason(error, settings)
        log.error("topic provisioning failed", extra={"reason": message})
        # `from None`: the deploy shows the reason, not a chained traceback.
        raise ProvisioningFailed(message) from None
    return outcome.as_dict()
