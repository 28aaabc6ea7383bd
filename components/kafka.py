"""MSK Serverless with IAM (SASL) client authentication only, plus least-privilege IAM documents.

The policy builders are pure functions of plain strings (easy to unit-test); the `*_json`
wrappers take an `Input[str]` cluster ARN and return the document as `Output[str]` JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pulumi
import pulumi_aws as aws

KAFKA_IAM_PORT = 9098  # MSK's SASL/IAM listener
_CLUSTER_ARN = re.compile(
    r"^arn:(?P<partition>[a-z-]+):kafka:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"cluster/(?P<name>[^/]+)/(?P<uuid>[^/]+)$"
)


class ClusterArn(NamedTuple):
    partition: str
    region: str
    account: str
    name: str
    uuid: str


def parse_cluster_arn(cluster_arn: str) -> ClusterArn:
    match = _CLUSTER_ARN.match(cluster_arn)
    if match is None:
        raise ValueError(f"not an MSK cluster ARN: {cluster_arn!r}")
    return ClusterArn(**match.groupdict())


def _kafka_arn(cluster_arn: str, kind: str, leaf: str) -> str:
    c = parse_cluster_arn(cluster_arn)
    return f"arn:{c.partition}:kafka:{c.region}:{c.account}:{kind}/{c.name}/{c.uuid}/{leaf}"


def topic_arn(cluster_arn: str, topic: str) -> str:
    """`arn:<partition>:kafka:<region>:<account>:topic/<cluster-name>/<cluster-uuid>/<topic>`."""
    return _kafka_arn(cluster_arn, "topic", topic)


def group_arn(cluster_arn: str, group: str) -> str:
    """`arn:<partition>:kafka:<region>:<account>:group/<cluster-name>/<cluster-uuid>/<group>`."""
    return _kafka_arn(cluster_arn, "group", group)


def _statement(sid: str, actions: list[str], resources: list[str] | str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def producer_policy_document(
    cluster_arn: str, topic: str, *, idempotent: bool, create_topic: bool
) -> dict[str, Any]:
    """What a producer of `topic` needs, on exact ARNs."""
    cluster_actions = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    if idempotent:
        # Idempotent producers (kafka-python 3.x default) ask for a producer id; without this
        # MSK answers ClusterAuthorizationFailed.
        cluster_actions.append("kafka-cluster:WriteDataIdempotently")
    topic_actions = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
    if create_topic:
        topic_actions.append("kafka-cluster:CreateTopic")
    return {
        "Version": "2012-10-17",
        "Statement": [
            _statement("Cluster", cluster_actions, cluster_arn),
            _statement("Topic", topic_actions, topic_arn(cluster_arn, topic)),
        ],
    }


def consumer_policy_document(cluster_arn: str, topic: str, group: str) -> dict[str, Any]:
    """What an MSK event source mapping's execution role needs (AWS's documented list)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            # Control plane: Lambda looks up the cluster and its brokers. MSK Serverless
            # requires DescribeClusterV2.
            _statement("ClusterControlPlane",
                       ["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"], cluster_arn),
            # The pollers' ENIs in the cluster's subnets. Resource "*" is required: the
            # Describe* actions support no resource-level permissions, and the ENIs Lambda
            # creates have ids unknown in advance.
            _statement("PollerNetworkInterfaces", [
                "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets", "ec2:DescribeVpcs",
            ], "*"),
            _statement("Cluster", ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
                       cluster_arn),
            _statement("Topic", ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
                       topic_arn(cluster_arn, topic)),
            _statement("Group", ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
                       group_arn(cluster_arn, group)),
        ],
    }


def producer_policy_json(
    cluster_arn: pulumi.Input[str], topic: str, *, idempotent: bool, create_topic: bool
) -> pulumi.Output[str]:
    return pulumi.Output.from_input(cluster_arn).apply(
        lambda arn: json.dumps(producer_policy_document(
            arn, topic, idempotent=idempotent, create_topic=create_topic))
    )


def consumer_policy_json(
    cluster_arn: pulumi.Input[str], topic: str, group: str
) -> pulumi.Output[str]:
    return pulumi.Output.from_input(cluster_arn).apply(
        lambda arn: json.dumps(consumer_policy_document(arn, topic, group))
    )


@dataclass
class KafkaClusterArgs:
    vpc_id: pulumi.Input[str]
    """VPC of the cluster's security group."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets (at least two AZs) the cluster's endpoints live in."""


class KafkaCluster(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    bootstrap_brokers_sasl_iam: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    cluster_uuid: pulumi.Output[str]

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
        self, name: str, client_security_group_id: pulumi.Input[str]
    ) -> list[pulumi.CustomResource]:
        """Let security group X talk SASL/IAM to the brokers: the cluster's ingress from X and
        X's egress to the cluster (client groups have no egress by default)."""
        opts = pulumi.ResourceOptions(parent=self)
        prefix = f"{self._name}-{name}-client"
        return [
            aws.vpc.SecurityGroupIngressRule(
                f"{prefix}-ingress", security_group_id=self.security_group_id,
                referenced_security_group_id=client_security_group_id, ip_protocol="tcp",
                from_port=KAFKA_IAM_PORT, to_port=KAFKA_IAM_PORT,
                description=f"{name}: Kafka SASL/IAM", opts=opts,
            ),
            aws.vpc.SecurityGroupEgressRule(
                f"{prefix}-egress", security_group_id=client_security_group_id,
                referenced_security_group_id=self.security_group_id, ip_protocol="tcp",
                from_port=KAFKA_IAM_PORT, to_port=KAFKA_IAM_PORT,
                description=f"{name}: Kafka SASL/IAM", opts=opts,
            ),
        ]
