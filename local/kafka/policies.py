"""The IAM policies the local broker enforces: the Pulumi program's own, rendered for its cluster.

This is the ONE module that imports the program's Kafka policy builders. Each role the program
defines maps to a function `(cluster_arn, topic, group) -> IAM policy document`; the broker
renders it for every topic (and consumer group) it is told about, so the local principals hold
exactly the statements `pulumi up` would attach to the API's task role and the consumer's
execution role, with exact topic and group ARNs. Adding a role is one line in `PROGRAM_ROLES`.

`admin` (ADMIN_POLICY) is the local operator's principal; the program defines no such role.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from components import kafka_access

PolicyDocument = dict[str, Any]
# (cluster ARN, topic, consumer group) -> one IAM policy document
RenderPolicy = Callable[[str, str, str], PolicyDocument]

ADMIN = "admin"
IAM_POLICY_VERSION = "2012-10-17"


def _api_policy(cluster_arn: str, topic: str, group: str) -> PolicyDocument:
    # The API's task role (components/api_service.py): produce only, idempotence as decided.
    return kafka_access.producer_kafka_policy(
        cluster_arn, topic, idempotent=kafka_access.API_PRODUCER_IDEMPOTENT)


def _consumer_policy(cluster_arn: str, topic: str, group: str) -> PolicyDocument:
    # The consumer function's execution role (components/consumer.py), which the mapping's
    # pollers use: the kafka-cluster statements are enforced here; the control-plane and EC2
    # statements have no Kafka action and never match a broker request.
    return kafka_access.consumer_kafka_policy(cluster_arn, topic, group)


def _topic_admin_policy(cluster_arn: str, topic: str, group: str) -> PolicyDocument:
    # The deploy-time topic provisioner's role (components/topic.py).
    return kafka_access.topic_admin_kafka_policy(cluster_arn, topic)


# The local operator (topic setup, tests): every kafka-cluster action on every resource, like an
# account administrator. Resource "*": it creates topics no program policy names yet.
ADMIN_POLICY: PolicyDocument = {"Version": IAM_POLICY_VERSION, "Statement": [
    {"Sid": "LocalAdministrator", "Effect": "Allow", "Action": "kafka-cluster:*", "Resource": "*"},
]}


# role -> the program's function for it.
PROGRAM_ROLES: dict[str, RenderPolicy] = {
    "api": _api_policy,
    "consumer": _consumer_policy,
    "topic-admin": _topic_admin_policy,
}


def default_consumer_group() -> str:
    """The program's consumer group (the consumerGroupId setting's default), the local
    mapping's too."""
    from settings import default

    return default("consumerGroupId")


def render(policy: RenderPolicy, cluster_arn: str,
           grants: Iterable[tuple[str, str]]) -> list[PolicyDocument]:
    """One document per (topic, group) grant, without repeats (a producer's document does not
    depend on the group, so two groups on one topic give it one document)."""
    documents: list[PolicyDocument] = []
    seen: set[str] = set()
    for topic, group in grants:
        document = policy(cluster_arn, topic, group)
        key = json.dumps(document, sort_keys=True)
        if key not in seen:
            seen.add(key)
            documents.append(document)
    return documents
