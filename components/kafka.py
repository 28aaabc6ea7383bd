"""MSK Serverless with IAM (SASL) client authentication only.

The Kafka IAM policies its clients get live in components/kafka_access.py (pure, no Pulumi).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.access_rules import KAFKA_IAM_PORT, kafka_client_rules
from components.kafka_access import parse_cluster_arn

__all__ = ["KAFKA_IAM_PORT", "KafkaCluster", "KafkaClusterArgs", "parse_cluster_arn"]



@dataclass
class KafkaClusterArgs:
    vpc_id: pulumi.Input[str]
    """VPC of the cluster's security group."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets (at least two AZs) the cluster's endpoints live in."""


class KafkaCluster(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    """The cluster's ARN."""
    bootstrap_brokers_sasl_iam: pulumi.Output[str]
    """Its SASL/IAM bootstrap brokers (port 9098)."""
    security_group_id: pulumi.Output[str]
    """The security group clients are admitted to (and the event source mapping's pollers use)."""
    cluster_name: pulumi.Output[str]
    """The cluster's name (from its ARN)."""
    cluster_uuid: pulumi.Output[str]
    """The cluster's UUID (from its ARN)."""

    def __init__(self, name: str, args: KafkaClusterArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("event-pipeline:kafka:KafkaCluster", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id,
            description="MSK Serverless: SASL/IAM (9098) from registered clients only",
            # The event source mapping's poller ENIs use this group and are released by AWS
            # long after the mapping is deleted: wait for them rather than fail the destroy.
            opts=pulumi.ResourceOptions(parent=self,
                                        custom_timeouts=pulumi.CustomTimeouts(delete="45m")),
        )
        self.security_group_id = security_group.id
        # The Lambda event source mapping's pollers run with the cluster's security groups, so
        # the group must admit itself. Egress is only to itself for the same reason: brokers
        # never open connections (replies are stateful); the pollers' AWS API calls get their
        # own egress via Network.allow_endpoint_access.
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-self-ingress", security_group_id=security_group.id,
            referenced_security_group_id=security_group.id, ip_protocol="tcp",
            from_port=KAFKA_IAM_PORT, to_port=KAFKA_IAM_PORT,
            description="event source mapping pollers to brokers", opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-self-egress", security_group_id=security_group.id,
            referenced_security_group_id=security_group.id, ip_protocol="tcp",
            from_port=KAFKA_IAM_PORT, to_port=KAFKA_IAM_PORT,
            description="event source mapping pollers to brokers", opts=child,
        )
        # MSK Serverless always encrypts in transit (TLS) and at rest; IAM is the only
        # client authentication, so nothing unauthenticated can connect.
        cluster = aws.msk.ServerlessCluster(
            f"{name}-cluster",
            client_authentication=aws.msk.ServerlessClusterClientAuthenticationArgs(
                sasl=aws.msk.ServerlessClusterClientAuthenticationSaslArgs(
                    iam=aws.msk.ServerlessClusterClientAuthenticationSaslIamArgs(enabled=True),
                ),
            ),
            vpc_configs=[aws.msk.ServerlessClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids, security_group_ids=[security_group.id],
            )],
            opts=child,
        )
        self.arn = cluster.arn
        self.bootstrap_brokers_sasl_iam = cluster.bootstrap_brokers_sasl_iam
        self.cluster_name = cluster.arn.apply(lambda arn: parse_cluster_arn(arn).name)
        self.cluster_uuid = cluster.arn.apply(lambda arn: parse_cluster_arn(arn).uuid)
        self.register_outputs({
            "arn": self.arn,
            "bootstrap_brokers_sasl_iam": self.bootstrap_brokers_sasl_iam,
            "security_group_id": self.security_group_id,
            "cluster_name": self.cluster_name,
            "cluster_uuid": self.cluster_uuid,
        })

    def allow_client(
        self, name: str, client_security_group_id: pulumi.Input[str], *,
        parent: pulumi.Resource,
    ) -> list[pulumi.CustomResource]:
        """Let security group X talk SASL/IAM to the brokers: the cluster's ingress from X and
        X's egress to the cluster (client groups have no egress by default).

        The two rules belong to the client: they are children of `parent` (the calling
        component), so they come and go with it.
        """
        # Before the rules were parented to the caller they were children of the cluster: the
        # alias keeps an existing stack from replacing them (a duplicate rule cannot be created
        # before the old one is deleted).
        return kafka_client_rules(
            self._name, name, self.security_group_id, client_security_group_id,
            pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(parent=self)]))
