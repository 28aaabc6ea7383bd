"""The pipeline's Kafka topic, provisioned at deploy time from inside the VPC.

MSK Serverless is reachable only from the VPC, with IAM authentication, so the topic is made by a
small Lambda (services/topic_admin) in the private subnets, run by `aws.lambda_.Invocation`, as
the AWS CDK MSK samples do with a deploy-time Lambda. The Invocation runs the function when it
is created and again whenever its input (topic, partitions), the function's code or the cluster
changes (pulumi-aws "aws.lambda.Invocation",
https://www.pulumi.com/registry/packages/aws/api-docs/lambda/invocation/: by default it "only
invokes the function when the arguments call for a create or replace"; `triggers` is a "map of
arbitrary keys and values that, when changed, will trigger a re-invocation"). A function error
fails the resource, and so the deploy (the provider fails on the response's FunctionError). The
function creates the topic if missing, grows its partitions, refuses to shrink them and never
deletes.

Whatever writes or reads the topic depends on `ready` (the Invocation), so the API service and
the event source mapping never start before their topic exists with its partitions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.existing import ExistingKafkaCluster, ExistingVpc, require
from components.iam import VERSION, render
from components.kafka import KafkaCluster
from components.kafka_access import topic_admin_kafka_policy
from components.lambda_policies import (
    FUNCTION_ENI_ACTIONS,
    function_eni_statement,
    own_log_group_statement,
)
from components.network import Network
from components.service_code import service_archive
from components.vpc_function import VpcFunctionSpec, function_log_group_and_role, vpc_function

SERVICE = "topic_admin"  # services/topic_admin: the function's code
HANDLER = "topic_admin.handler.lambda_handler"
# Kafka topic the API writes and the consumer reads, unless a program names another.
DEFAULT_TOPIC_NAME = "events"


@dataclass
class KafkaTopicArgs:
    """Inputs of a `KafkaTopic`; everything after `network` has a default."""

    cluster: KafkaCluster | ExistingKafkaCluster
    """The MSK cluster the topic lives in; the function becomes one of its clients. A
    `KafkaCluster`, or an `ExistingKafkaCluster` (ARN, bootstrap brokers, security group)."""
    network: Network | ExistingVpc
    """The VPC: the function runs in its private subnets. A `Network`, or an `ExistingVpc`."""
    code: pulumi.Archive | None = None
    """The function's package. None: built when the program runs from the package's own
    services/topic_admin (components/service_code.py)."""
    topic_name: str = DEFAULT_TOPIC_NAME
    """The topic to provision (Kafka's name rules; checked by the stack settings)."""
    partitions: int = 3
    """Partitions of the topic. Growing it adds partitions; shrinking fails the deploy."""
    runtime: str = "python3.13"
    """The function's runtime (the package is built for this Python)."""
    timeout_seconds: int = 120
    """Function timeout: covers connecting, creating and waiting for partition leaders."""
    memory_mb: int = 256
    """Function memory."""
    log_retention_days: int = 14
    """CloudWatch Logs retention of the function's log group."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable resource."""

    def __post_init__(self) -> None:
        problems = [p for p in (
            require("KafkaTopicArgs", "cluster", self.cluster, KafkaCluster, ExistingKafkaCluster),
            require("KafkaTopicArgs", "network", self.network, Network, ExistingVpc),
            None if self.partitions >= 1 else f"partitions {self.partitions} is below 1",
        ) if p]
        if problems:
            raise ValueError("invalid KafkaTopicArgs: " + "; ".join(problems))


def topic_admin_runtime_policy(log_group_arn: str) -> dict:
    """Besides Kafka: attach to the VPC and write its own logs. Nothing else."""
    return {"Version": VERSION,
            "Statement": [function_eni_statement(), own_log_group_statement(log_group_arn)]}


class KafkaTopic(pulumi.ComponentResource):
    """A Kafka topic made (and grown) by a deploy-time Lambda inside the VPC."""

    cluster: KafkaCluster | ExistingKafkaCluster
    """The cluster the topic lives in (as given in the args)."""
    topic_name: str
    """The topic's name."""
    partitions: int
    """Its partition count."""
    ready: aws.lambda_.Invocation
    """The provisioning run: depend on it to start only once the topic exists."""
    function_name: pulumi.Output[str]
    """The provisioning function."""
    security_group_id: pulumi.Output[str]
    """The provisioning function's security group."""
    role_arn: pulumi.Output[str]
    """The provisioning function's role."""
    result: pulumi.Output[str]
    """What the provisioning run reported."""

    def __init__(self, name: str, args: KafkaTopicArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("event-pipeline:kafka:KafkaTopic", name, None, opts)
        self._name, self._args = name, args
        self.cluster, self.topic_name, self.partitions = (
            args.cluster, args.topic_name, args.partitions)
        log_group, role, policies = self._role()
        security_group, grants = self._security_group()
        function = self._function(role, log_group, security_group, [*policies, *grants])
        self.ready = self._invocation(function)
        self.function_name = function.name
        self.security_group_id = security_group.id
        self.role_arn = role.arn
        self.result = self.ready.result
        self.register_outputs({
            "topic_name": self.topic_name, "partitions": self.partitions,
            "function_name": self.function_name, "security_group_id": self.security_group_id,
            "role_arn": self.role_arn, "result": self.result,
        })

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _role(self) -> tuple[aws.cloudwatch.LogGroup, aws.iam.Role, list[pulumi.Resource]]:
        name, args = self._name, self._args
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        log_group, role = function_log_group_and_role(
            self, name, description=f"{name}: create and grow topic {args.topic_name}",
            retention_days=args.log_retention_days, account_id=account_id, tags=args.tags)
        kafka = aws.iam.RolePolicy(
            f"{name}-kafka", role=role.id,
            policy=render(lambda arn: topic_admin_kafka_policy(arn, args.topic_name),
                          args.cluster.arn),
            opts=self._child())
        runtime = aws.iam.RolePolicy(
            f"{name}-runtime", role=role.id,
            policy=render(topic_admin_runtime_policy, log_group.arn), opts=self._child())
        return log_group, role, [kafka, runtime]

    def _security_group(self) -> tuple[aws.ec2.SecurityGroup, list[pulumi.Resource]]:
        # Its only egress is to the brokers (SASL/IAM). Signing MSK tokens needs no network,
        # credentials come from the Lambda runtime, and logs leave through the Lambda service.
        security_group = aws.ec2.SecurityGroup(
            f"{self._name}-sg", vpc_id=self._args.network.vpc_id,
            description="Topic provisioner: Kafka SASL/IAM to the cluster only",
            tags=dict(self._args.tags),
            # A deleted VPC function's ENIs are released up to ~40 minutes later.
            opts=self._child(custom_timeouts=pulumi.CustomTimeouts(delete="45m")))
        grants = self._args.cluster.allow_client(self._name, security_group.id, parent=self)
        return security_group, grants

    def _function(self, role: aws.iam.Role, log_group: aws.cloudwatch.LogGroup,
                  security_group: aws.ec2.SecurityGroup,
                  needs: list[pulumi.Resource]) -> aws.lambda_.Function:
        name, args = self._name, self._args
        # The first run needs the Kafka grants and the route to the brokers.
        return vpc_function(self, name, VpcFunctionSpec(
            role=role, code=args.code or service_archive(SERVICE, args.runtime),
            handler=HANDLER, runtime=args.runtime,
            memory_mb=args.memory_mb, timeout_seconds=args.timeout_seconds, log_group=log_group,
            subnet_ids=args.network.private_subnet_ids, security_group=security_group,
            environment={
                "KAFKA_BOOTSTRAP_SERVERS": args.cluster.bootstrap_brokers_sasl_iam,
                "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            },
            denied_to_code=FUNCTION_ENI_ACTIONS, tags=args.tags,
        ), depends_on=needs)

    def _invocation(self, function: aws.lambda_.Function) -> aws.lambda_.Invocation:
        args = self._args
        return aws.lambda_.Invocation(
            f"{self._name}-provision",
            function_name=function.name,
            # CREATE_ONLY (the default): a changed input replaces the resource, i.e. runs the
            # function again; deleting it runs nothing (the topic and its data stay).
            input=json.dumps({"topic": args.topic_name, "partitions": args.partitions}),
            # A new package (e.g. a fix in the provisioner) runs it again too; so does a new
            # cluster: any vpc_config change (e.g. another AZ) replaces an MSK Serverless
            # cluster, and its ARN (name and UUID) is new, while nothing else here changes.
            triggers={"code_sha256": function.code_sha256, "cluster_arn": args.cluster.arn},
            opts=self._child())
