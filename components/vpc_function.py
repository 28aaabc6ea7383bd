"""The one way this program builds a Lambda function: arm64, in private subnets with its own
security group, JSON logs into its own log group, and the ENI actions its role needs for VPC
networking denied to the function's own code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.iam import render, service_trust_policy
from components.lambda_policies import deny_eni_to_function_code


def function_log_group_and_role(
    owner: pulumi.Resource, name: str, *, description: str, retention_days: int,
    account_id: pulumi.Input[str], tags: Mapping[str, str],
) -> tuple[aws.cloudwatch.LogGroup, aws.iam.Role]:
    """`<name>-logs` and `<name>-role`, children of `owner`, made before the function: its own
    log group (Lambda then never auto-creates an unbounded one, and the role can be scoped to
    this group alone) and a role only Lambda in this account may assume."""
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        # Still auto-named (unique suffix), but found where Lambda users look first.
        name_prefix=f"/aws/lambda/{name}-",
        retention_in_days=retention_days, tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=owner))
    role = aws.iam.Role(
        f"{name}-role", description=description,
        assume_role_policy=render(
            lambda account: service_trust_policy("lambda.amazonaws.com", account), account_id),
        tags=dict(tags), opts=pulumi.ResourceOptions(parent=owner))
    return log_group, role


@dataclass
class VpcFunctionSpec:
    role: aws.iam.Role
    code: pulumi.Archive
    handler: str
    runtime: str
    memory_mb: int
    timeout_seconds: int
    log_group: aws.cloudwatch.LogGroup
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    security_group: aws.ec2.SecurityGroup
    environment: Mapping[str, pulumi.Input[str]]
    denied_to_code: Sequence[str]
    """ENI actions the role holds for Lambda, denied to requests made with the code's
    credentials (lambda_policies.deny_eni_to_function_code)."""
    reserved_concurrency: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


def vpc_function(owner: pulumi.Resource, name: str, spec: VpcFunctionSpec,
                 depends_on: Sequence[pulumi.Resource]) -> aws.lambda_.Function:
    """`<name>-function` and its `<name>-deny-eni-to-code` policy, children of `owner`.
    `depends_on`: what the first invocation needs (Lambda checks the ENI permissions when it
    creates a VPC function)."""
    function = aws.lambda_.Function(
        f"{name}-function",
        role=spec.role.arn, code=spec.code, handler=spec.handler, runtime=spec.runtime,
        architectures=["arm64"], memory_size=spec.memory_mb, timeout=spec.timeout_seconds,
        reserved_concurrent_executions=spec.reserved_concurrency,
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(
            log_format="JSON", log_group=spec.log_group.name,
            application_log_level="INFO", system_log_level="WARN"),
        vpc_config=aws.lambda_.FunctionVpcConfigArgs(
            subnet_ids=spec.subnet_ids, security_group_ids=[spec.security_group.id]),
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(spec.environment)),
        tags=dict(spec.tags),
        opts=pulumi.ResourceOptions(parent=owner, depends_on=list(depends_on)))
    # Needs the function's ARN, so it can only follow the function; the role's allow has no such
    # dependency, so creation never waits on it.
    denied = tuple(spec.denied_to_code)
    aws.iam.RolePolicy(
        f"{name}-deny-eni-to-code", role=spec.role.id,
        policy=render(lambda arn: deny_eni_to_function_code(arn, denied), function.arn),
        opts=pulumi.ResourceOptions(parent=owner))
    return function
