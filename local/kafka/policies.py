"""The IAM policies the local broker enforces: the Pulumi program's own, rendered for its cluster.

This is the ONE module that imports the program's Kafka policy builders. Each role the program
defines maps to a function `(cluster_arn, topic, group) -> IAM policy document`; the broker
renders it for every topic (and consumer group) it is told about, so the local principals hold
exactly the statements `pulumi up` would attach to the API's task role and the consumer's
execution role, with exact topic and group ARNs. Adding a role is one line in `PROGRAM_ROLES`.

`admin` (ADMIN_POLICY) is the local operator's principal; the program defines no such role.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from typing import Any

PolicyDocument = dict[str, Any]
# (cluster ARN, topic, consumer group) -> one IAM policy document
RenderPolicy = Callable[[str, str, str], PolicyDocument]

ADMIN = "admin"
IAM_POLICY_VERSION = "2012-10-17"


def _field_default(cls: type, name: str) -> Any:
    """The documented default of a component's args dataclass field."""
    return next(f.default for f in dataclasses.fields(cls) if f.name == name)


def _api_policy(cluster_arn: str, topic: str, group: str) -> PolicyDocument:
    # What components/api_service.py attaches to the task role, with its defaults: the API
    # creates its topic at start-up, and idempotence follows ApiServiceArgs.producer_idempotent.
    from components.api_service import ApiServiceArgs
    from components.kafka import producer_policy_document

    return producer_policy_document(
        cluster_arn, topic, create_topic=True,
        idempotent=_field_default(ApiServiceArgs, "producer_idempotent"),
    )


def _consumer_policy(cluster_arn: str, topic: str, group: str) -> PolicyDocument:
    # What components/consumer.py attaches to the function's execution role (the mapping's
    # pollers use it): the kafka-cluster statements are enforced here, the control-plane and
    # EC2 statements have no Kafka action and never match a broker request.
    from components.kafka import consumer_policy_document

    return consumer_policy_document(cluster_arn, topic, group)


# The local operator (topic setup, tests): every kafka-cluster action on every resource, like an
# account administrator. Resource "*": it creates topics no program policy names yet.
ADMIN_POLICY: PolicyDocument = {"Version": IAM_POLICY_VERSION, "Statement": [
    {"Sid": "LocalAdministrator", "Effect": "Allow", "Action": "kafka-cluster:*", "Resource": "*"},
]}


# role -> the program's function for it. The lead switches these imports to
# components/kafka_access.py when it lands, and adds "topic-admin" there.
PROGRAM_ROLES: dict[str, RenderPolicy] = {
    "api": _api_policy,
    "consumer": _consumer_policy,
}


def default_consumer_group() -> str:
    """The program's consumer group (ConsumerArgs.consumer_group_id), the local mapping's too."""
    from components.consumer import ConsumerArgs

    return _field_default(ConsumerArgs, "consumer_group_id")


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
