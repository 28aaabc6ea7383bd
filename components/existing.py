"""A VPC, a Kafka cluster and a topic made elsewhere, given by plain values.

A program that built its VPC or its MSK cluster outside this library passes one of these where
the sibling component (`Network`, `KafkaCluster`, `KafkaTopic`) would go: they have the same
attributes and grant access with the same rules (components/access_rules.py), so every
component takes either. The rules a grant creates belong to the calling component; `name`
prefixes their logical names, as the sibling component's own name does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.access_rules import S3, endpoint_access_rules, kafka_client_rules
from components.kafka import KafkaCluster


@dataclass(frozen=True)
class ExistingVpc:
    """A VPC without NAT whose AWS APIs are reached through VPC endpoints, as `Network` makes."""

    vpc_id: pulumi.Input[str]
    """The VPC's id (vpc-...)."""
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets in at least two AZs: tasks, functions and the MSK cluster."""
    public_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] = ()
    """Public subnets in at least two AZs: the API's load balancer (only ApiService needs them)."""
    endpoint_security_group_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Security group of each interface endpoint, by short service name ("ecr.api", "logs",
    "sqs", ...): a client is admitted by an ingress rule on it."""
    s3_prefix_list_id: pulumi.Input[str] | None = None
    """Prefix list of the S3 gateway endpoint (pl-...), if the VPC has one."""
    name: str = "vpc"
    """Prefix of the logical names of the rules a grant creates."""

    @property
    def endpoints(self) -> tuple[str, ...]:
        return (*self.endpoint_security_group_ids,
                *((S3,) if self.s3_prefix_list_id is not None else ()))

    def allow_endpoint_access(
        self, name: str, endpoint: str, client_security_group_id: pulumi.Input[str], *,
        parent: pulumi.Resource,
    ) -> list[pulumi.CustomResource]:
        """Let security group X reach endpoint Y on 443 (rules children of `parent`)."""
        if endpoint not in self.endpoints:
            raise ValueError(
                f"{name} needs the VPC's {endpoint!r} endpoint: give "
                + ("s3_prefix_list_id" if endpoint == S3
                   else f"endpoint_security_group_ids[{endpoint!r}]")
                + f" in ExistingVpc {self.name!r} (it has: "
                + f"{', '.join(sorted(self.endpoints)) or 'none'})")
        return endpoint_access_rules(
            self.name, name, endpoint, client_security_group_id,
            endpoint_security_group_id=self.endpoint_security_group_ids.get(endpoint),
            s3_prefix_list_id=self.s3_prefix_list_id,
            opts=pulumi.ResourceOptions(parent=parent))


@dataclass(frozen=True)
class ExistingKafkaCluster:
    """An MSK (Serverless or provisioned) cluster with IAM client authentication."""

    arn: pulumi.Input[str]
    """The cluster's ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)."""
    bootstrap_brokers_sasl_iam: pulumi.Input[str]
    """Its SASL/IAM bootstrap brokers (host:9098,...)."""
    security_group_id: pulumi.Input[str]
    """The security group of its broker endpoints (and of an MSK event source mapping's
    pollers): clients are admitted by an ingress rule on it."""
    name: str = "kafka"
    """Prefix of the logical names of the rules a grant creates."""

    def allow_client(self, name: str, client_security_group_id: pulumi.Input[str], *,
                     parent: pulumi.Resource) -> list[pulumi.CustomResource]:
        """Let security group X talk SASL/IAM to the brokers (rules children of `parent`)."""
        return kafka_client_rules(self.name, name, self.security_group_id,
                                  client_security_group_id, pulumi.ResourceOptions(parent=parent))


@dataclass(frozen=True)
class ExistingTopic:
    """A topic that already exists in a cluster (made by another program or by hand)."""

    cluster: KafkaCluster | ExistingKafkaCluster
    """The cluster it lives in."""
    topic_name: str
    """Its name."""
    ready: pulumi.Resource | None = None
    """What creates it, if a resource of this program does: the API and the mapping wait."""


def require(owner: str, field_name: str, value: object, *kinds: type) -> str | None:
    """A clear problem when `value` is none of `kinds` (a program passed the wrong thing)."""
    if isinstance(value, kinds):
        return None
    return (f"{owner}.{field_name} must be a {' or an '.join(k.__name__ for k in kinds)}, "
            f"not {type(value).__name__}")
