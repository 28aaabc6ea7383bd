"""The security group rules that let a client reach a VPC endpoint or the Kafka brokers.

One home for both shapes of a VPC and a cluster: the sibling components (`Network`,
`KafkaCluster`) and the plain values of one made elsewhere (components/existing.py) create
exactly the same rules. A client group has no egress by default, so each grant is two rules:
the target's ingress from the client and the client's egress to the target.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

HTTPS = 443
KAFKA_IAM_PORT = 9098  # MSK's SASL/IAM listener
S3 = "s3"  # the gateway endpoint; reached through its prefix list, not a security group


def slug(endpoint: str) -> str:
    return endpoint.replace(".", "-")


def endpoint_access_rules(
    prefix: str, name: str, endpoint: str, client_security_group_id: pulumi.Input[str], *,
    endpoint_security_group_id: pulumi.Input[str] | None,
    s3_prefix_list_id: pulumi.Input[str] | None, opts: pulumi.ResourceOptions,
) -> list[pulumi.CustomResource]:
    """`<prefix>-<name>-<endpoint>-{ingress,egress}`: HTTPS from the client to the endpoint. For
    "s3" (the gateway endpoint) only the client's egress to the S3 prefix list is needed."""
    rule = f"{prefix}-{name}-{slug(endpoint)}"
    if endpoint == S3:
        return [aws.vpc.SecurityGroupEgressRule(
            f"{rule}-egress", security_group_id=client_security_group_id,
            prefix_list_id=s3_prefix_list_id, ip_protocol="tcp",
            from_port=HTTPS, to_port=HTTPS, description=f"{name}: S3 via gateway endpoint",
            opts=opts,
        )]
    return [
        aws.vpc.SecurityGroupIngressRule(
            f"{rule}-ingress", security_group_id=endpoint_security_group_id,
            referenced_security_group_id=client_security_group_id, ip_protocol="tcp",
            from_port=HTTPS, to_port=HTTPS, description=f"{name}: HTTPS to {endpoint}",
            opts=opts,
        ),
        aws.vpc.SecurityGroupEgressRule(
            f"{rule}-egress", security_group_id=client_security_group_id,
            referenced_security_group_id=endpoint_security_group_id, ip_protocol="tcp",
            from_port=HTTPS, to_port=HTTPS, description=f"{name}: HTTPS to {endpoint}",
            opts=opts,
        ),
    ]


def kafka_client_rules(
    prefix: str, name: str, cluster_security_group_id: pulumi.Input[str],
    client_security_group_id: pulumi.Input[str], opts: pulumi.ResourceOptions,
) -> list[pulumi.CustomResource]:
    """`<prefix>-<name>-client-{ingress,egress}`: SASL/IAM from the client to the brokers."""
    rule = f"{prefix}-{name}-client"
    return [
        aws.vpc.SecurityGroupIngressRule(
            f"{rule}-ingress", security_group_id=cluster_security_group_id,
            referenced_security_group_id=client_security_group_id, ip_protocol="tcp",
            from_port=KAFKA_IAM_PORT, to_port=KAFKA_IAM_PORT,
            description=f"{name}: Kafka SASL/IAM", opts=opts,
        ),
        aws.vpc.SecurityGroupEgressRule(
            f"{rule}-egress", security_group_id=client_security_group_id,
            referenced_security_group_id=cluster_security_group_id, ip_protocol="tcp",
            from_port=KAFKA_IAM_PORT, to_port=KAFKA_IAM_PORT,
            description=f"{name}: Kafka SASL/IAM", opts=opts,
        ),
    ]
