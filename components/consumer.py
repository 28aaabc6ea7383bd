"""The consumer: a VPC Lambda fed by an MSK event source mapping, with its dead letters and alarms.

What one `Consumer` creates (all children of the component, logical names prefixed by its name):

- the function (arm64, Python 3.13, JSON logs into its own log group with retention) in the
  private subnets, with its own security group whose only egress is HTTPS to the SQS endpoint;
- the event source mapping on the MSK cluster (topic, explicit consumer group, starting
  position, batching, on-failure destination; provisioned pollers, retry limit, batch bisection
  and partial-batch responses only when provisioned mode is chosen);
- the dead-letter queue (KMS customer-managed key, 14 days, TLS-only policy without anonymous
  access) that both the handler (poison records) and the mapping (discarded batches) write to;
- the execution role: the MSK component's consumer policy, the ENI permissions AWS requires for
  VPC networking (denied to the function's own code), logs to its own group, send to its queue;
- the endpoint and security-group wiring the mapping's pollers need, and three alarms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from components.kafka_access import consumer_kafka_policy

STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum
_GROUP_ID = re.compile(r"^[a-zA-Z0-9._-]{1,200}$")

# What Lambda does with the execution role to attach the *function* to the VPC (the list of
# AWS's AWSLambdaVPCAccessExecutionRole, without its logs part). The mapping's pollers' own ENI
# permissions are part of the MSK component's consumer policy.
FUNCTION_ENI_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:UnassignPrivateIpAddresses",
)
# Denied to the function's own code: every ENI action the role holds, from either policy.
DENIED_TO_CODE_ACTIONS = tuple(sorted({
    *FUNCTION_ENI_ACTIONS,
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
}))


class EndpointNetwork(Protocol):
    """What the consumer needs from the network (components.network.Network provides it).

    `allow_endpoint_access` must open both sides: the endpoint group's ingress from the client
    group and the client group's egress to the endpoint, TCP 443 only.
    """

    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]

    def allow_endpoint_access(
        self, name: str, endpoint: str, client_security_group_id: pulumi.Input[str], *,
        parent: pulumi.Resource | None = None,
    ) -> Any: ...


@dataclass
class ConsumerArgs:
    """Inputs of a `Consumer`. Everything but the first five fields has a production default."""

    # The deployment package: `build_lambda_archive(...)` in a program, any small
    # `pulumi.AssetArchive` in tests (nothing is built under mocks).
    code: pulumi.Archive
    # VPC, private subnets, interface endpoints and the way to open them to a security group.
    network: EndpointNetwork
    # The MSK cluster the mapping reads, and the security group its pollers run with (AWS
    # places the mapping's ENIs in the cluster's subnets with the cluster's security groups).
    cluster_arn: pulumi.Input[str]
    cluster_security_group_id: pulumi.Input[str]
    topic: str
    # Immutable after creation (see the mapping below): choose it once.
    consumer_group_id: str = "event-consumer"
    # TRIM_HORIZON: a new group starts at the oldest retained record, so events written before
    # the mapping existed are not lost (LATEST would skip them).
    starting_position: str = "TRIM_HORIZON"
    batch_size: int = 100  # records per invocation, 1-10000
    batching_window_seconds: int = 1  # 0-300
    # 0 = on-demand pollers (no fixed cost). >= 1 = provisioned mode with that many minimum
    # pollers; only then do retry limits, bisection and partial-batch responses exist.
    provisioned_pollers: int = 0
    maximum_pollers: int | None = None  # provisioned mode only; None = AWS's default
    maximum_retry_attempts: int = 3  # provisioned mode only; 0-10000
    bisect_batch_on_function_error: bool = True  # provisioned mode only
    report_batch_item_failures: bool = True  # provisioned mode only
    handler: str = "event_consumer.handler.lambda_handler"
    runtime: str = "python3.13"
    memory_mb: int = 256
    timeout_seconds: int = 60
    reserved_concurrency: int | None = None  # None = share the account's unreserved pool
    log_retention_days: int = 14
    offset_lag_alarm_threshold: int = 1000  # records behind the end of the topic
    alarm_actions: Sequence[pulumi.Input[str]] = ()  # e.g. SNS topic ARNs
    service_name: str = "event-consumer"  # POWERTOOLS_SERVICE_NAME
    metrics_namespace: str = "EventPipeline"  # POWERTOOLS_METRICS_NAMESPACE
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if self.starting_position not in STARTING_POSITIONS:
            problems.append(f"starting_position {self.starting_position!r} is not one of "
                            f"{', '.join(STARTING_POSITIONS)}")
        if not _GROUP_ID.match(self.consumer_group_id):
            problems.append(f"consumer_group_id {self.consumer_group_id!r} must be 1-200 of "
                            "[a-zA-Z0-9._-] (a wildcard would widen the group ARN in IAM)")
        if not 1 <= self.batch_size <= 10000:
            problems.append(f"batch_size {self.batch_size} is not in 1-10000")
        if not 0 <= self.batching_window_seconds <= 300:
            problems.append(f"batching_window_seconds {self.batching_window_seconds} is not in "
                            "0-300")
        if self.provisioned_pollers < 0:
            problems.append(f"provisioned_pollers {self.provisioned_pollers} is negative")
        if self.maximum_pollers is not None and self.maximum_pollers < max(
            1, self.provisioned_pollers
        ):
            problems.append(f"maximum_pollers {self.maximum_pollers} is below the minimum "
                            f"{self.provisioned_pollers}")
        if not 0 <= self.maximum_retry_attempts <= 10000:
            problems.append(f"maximum_retry_attempts {self.maximum_retry_attempts} is not in "
                            "0-10000")
        if self.reserved_concurrency is not None and self.reserved_concurrency < 0:
            problems.append(f"reserved_concurrency {self.reserved_concurrency} is negative")
        if problems:
            raise ValueError("invalid ConsumerArgs: " + "; ".join(problems))


# --- Policy documents (pure functions of resolved values; unit-testable on their own) ---------


def assume_role_policy(account_id: str) -> dict[str, Any]:
    """Only the Lambda service, acting for this account, may assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }],
    }


def runtime_policy(
    log_group_arn: str, queue_arn: str, key_arn: str, region: str
) -> dict[str, Any]:
    """Everything the role needs besides Kafka; no wildcard but the ENI actions AWS requires."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "FunctionVpcNetworkInterfaces",
                "Effect": "Allow",
                "Action": list(FUNCTION_ENI_ACTIONS),
                # AWS requires "*": the Describe* actions support no resource-level permissions
                # and the ENIs Lambda creates and deletes have ids nobody knows in advance.
                # The statement below keeps the function's own code from using them.
                "Resource": "*",
            },
            {
                "Sid": "OwnLogGroupOnly",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group_arn}:*",
            },
            {
                # The handler dead-letters poison records; the mapping delivers discarded
                # batches with the same role (AWS: "your execution role must have permissions
                # for the destination").
                "Sid": "SendToOwnDeadLetterQueue",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
            },
            {
                "Sid": "DeadLetterQueueKeyThroughSqsOnly",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{region}.amazonaws.com"}},
            },
        ],
    }


def deny_eni_to_function_code(function_arn: str) -> dict[str, Any]:
    """Deny the ENI actions to requests made with the function's own credentials.

    Credentials handed to the running function carry `lambda:SourceFunctionArn`; the Lambda
    service managing ENIs for the function and the mapping does not, so it is unaffected.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "NoNetworkInterfacesFromFunctionCode",
            "Effect": "Deny",
            "Action": list(DENIED_TO_CODE_ACTIONS),
            "Resource": "*",  # mirrors the allow above; the condition does the scoping
            "Condition": {"ArnEquals": {"lambda:SourceFunctionArn": function_arn}},
        }],
    }


def dead_letter_key_policy(partition: str, account_id: str) -> dict[str, Any]:
    """Key administration stays with the account's IAM; no other principal is named.

    Without the account statement the key would be unmanageable (AWS's default key policy).
    Use of the key is then granted only by IAM policies - here only the consumer role's, and
    only through SQS (kms:ViaService).
    """
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AccountIamPoliciesGovernThisKey",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",  # in a key policy "*" means this key and nothing else
        }],
    }


def dead_letter_queue_policy(queue_arn: str, role_arn: str) -> dict[str, Any]:
    """Send only by the consumer role; nothing over plain HTTP; no anonymous principal allowed."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConsumerRoleSends",
                "Effect": "Allow",
                "Principal": {"AWS": role_arn},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def _json(output: pulumi.Output[dict[str, Any]]) -> pulumi.Output[str]:
    return output.apply(lambda doc: json.dumps(doc, sort_keys=True))


class Consumer(pulumi.ComponentResource):
    """The consumer Lambda, its MSK event source mapping, dead-letter queue and alarms."""

    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    mapping_uuid: pulumi.Output[str]
    mapping_arn: pulumi.Output[str]
    dead_letter_queue_url: pulumi.Output[str]
    dead_letter_queue_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    alarm_names: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: ConsumerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("event-pipeline:consumer:Consumer", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        region = aws.get_region_output(opts=invoke).region
        tags = dict(args.tags)

        # --- Dead-letter queue ------------------------------------------------------------
        # A customer-managed key (not SSE-SQS) so that reading dead letters - full payloads of
        # real events - needs an explicit KMS grant on top of sqs:ReceiveMessage.
        key = aws.kms.Key(
            f"{name}-dlq-key",
            description=f"{name}: dead-letter queue encryption",
            enable_key_rotation=True,
            deletion_window_in_days=7,
            policy=_json(pulumi.Output.all(partition, account_id).apply(
                lambda a: dead_letter_key_policy(*a))),
            tags=tags,
            opts=self._child(),
        )
        queue = aws.sqs.Queue(
            f"{name}-dlq",
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            kms_master_key_id=key.arn,
            # Fewer KMS calls (and cost) per message; 5 minutes is SQS's default.
            kms_data_key_reuse_period_seconds=300,
            tags=tags,
            opts=self._child(),
        )

        # --- Log group and role -----------------------------------------------------------
        # Created before the function (it is an input of it), so Lambda never auto-creates an
        # unbounded group, and the role can be scoped to this group alone.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            # Still auto-named (unique suffix), but found where Lambda users look first.
            name_prefix=f"/aws/lambda/{name}-",
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=self._child(),
        )
        role = aws.iam.Role(
            f"{name}-role",
            description=f"{name}: consumer Lambda and its MSK event source mapping",
            assume_role_policy=_json(account_id.apply(assume_role_policy)),
            tags=tags,
            opts=self._child(),
        )
        # Exactly the MSK component's consumer policy, as its own document, so a reviewer can
        # compare it with components/kafka.py one to one.
        kafka_policy = aws.iam.RolePolicy(
            f"{name}-kafka",
            role=role.id,
            policy=_json(pulumi.Output.from_input(args.cluster_arn).apply(
                lambda arn: consumer_kafka_policy(arn, args.topic, args.consumer_group_id))),
            opts=self._child(),
        )
        runtime_role_policy = aws.iam.RolePolicy(
            f"{name}-runtime",
            role=role.id,
            policy=_json(pulumi.Output.all(log_group.arn, queue.arn, key.arn, region).apply(
                lambda a: runtime_policy(*a))),
            opts=self._child(),
        )

        # --- Function networking ----------------------------------------------------------
        # AWS releases a deleted VPC function's Hyperplane ENIs only after 20-40 minutes, and
        # the group cannot be deleted while one still uses it: give the delete that long instead
        # of failing `pulumi destroy` after the default 15 minutes.
        function_sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.network.vpc_id,
            description="Consumer Lambda: HTTPS egress to the SQS endpoint only",
            tags=tags,
            opts=self._child(custom_timeouts=pulumi.CustomTimeouts(delete="45m")),
        )
        # Only SQS: the handler's dead letters. Function logs and EMF metrics leave through the
        # Lambda service, not the function's ENI, so no logs endpoint is needed (nor STS: the
        # runtime gets its credentials from Lambda). The network adds both sides of each link:
        # the endpoint group's ingress and the client group's egress, both on 443 only.
        network_links: list[pulumi.Resource] = _resources(
            args.network.allow_endpoint_access(f"{name}-function", "sqs", function_sg.id,
                                              parent=self)
        )
        # The mapping's pollers run in the cluster's subnets with the cluster's security group
        # (AWS: "the hyperplane ENI uses the subnet and security group configuration of your MSK
        # cluster"). Without a NAT gateway they reach STS (to assume the execution role), Lambda
        # (to invoke the function) and the on-failure destination only through the interface
        # endpoints - so those must admit the *cluster's* group. The reference design opens SQS
        # only to the function's group: then the pollers cannot deliver a discarded batch, the
        # batch is never released and the partition stays blocked.
        for endpoint in ("sts", "lambda", "sqs"):
            network_links += _resources(args.network.allow_endpoint_access(
                f"{name}-mapping", endpoint, args.cluster_security_group_id, parent=self
            ))

        # --- Function ---------------------------------------------------------------------
        function = aws.lambda_.Function(
            f"{name}-function",
            role=role.arn,
            code=args.code,
            handler=args.handler,
            runtime=args.runtime,
            architectures=["arm64"],
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            reserved_concurrent_executions=args.reserved_concurrency,
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON",
                log_group=log_group.name,
                application_log_level="INFO",
                system_log_level="WARN",
            ),
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=args.network.private_subnet_ids,
                security_group_ids=[function_sg.id],
            ),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={
                "DEAD_LETTER_QUEUE_URL": queue.url,
                "POWERTOOLS_SERVICE_NAME": args.service_name,
                "POWERTOOLS_METRICS_NAMESPACE": args.metrics_namespace,
            }),
            tags=tags,
            # Lambda checks the ENI permissions when it creates a VPC function.
            opts=self._child(depends_on=[runtime_role_policy]),
        )
        # Needs the function's ARN, so it can only follow the function; the allow above has no
        # such dependency, so creation never waits on it.
        aws.iam.RolePolicy(
            f"{name}-deny-eni-to-code",
            role=role.id,
            policy=_json(function.arn.apply(deny_eni_to_function_code)),
            opts=self._child(),
        )
        # The mapping invokes the function with the execution role; this resource policy
        # additionally lets only this cluster, in this account, be named as an invoking source.
        permission = aws.lambda_.Permission(
            f"{name}-from-cluster",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="kafka.amazonaws.com",
            source_arn=args.cluster_arn,
            source_account=account_id,
            opts=self._child(),
        )

        # --- Queue policy (needs the role) ------------------------------------------------
        queue_policy = aws.sqs.QueuePolicy(
            f"{name}-dlq-policy",
            queue_url=queue.url,
            policy=_json(pulumi.Output.all(queue.arn, role.arn).apply(
                lambda a: dead_letter_queue_policy(*a))),
            opts=self._child(),
        )

        # --- Event source mapping ---------------------------------------------------------
        provisioned = args.provisioned_pollers >= 1
        mapping = aws.lambda_.EventSourceMapping(
            f"{name}-mapping",
            event_source_arn=args.cluster_arn,
            function_name=function.arn,
            topics=[args.topic],
            starting_position=args.starting_position,
            batch_size=args.batch_size,
            maximum_batching_window_in_seconds=args.batching_window_seconds,
            amazon_managed_kafka_event_source_config=(
                aws.lambda_.EventSourceMappingAmazonManagedKafkaEventSourceConfigArgs(
                    consumer_group_id=args.consumer_group_id,
                )
            ),
            destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=queue.arn,
                ),
            ),
            # On-demand mode (the default) has no fixed cost but no retry controls: AWS retries a
            # failed batch until it succeeds or its records expire from the topic, blocking the
            # partition meanwhile. The handler dead-letters poison records itself, so only
            # transient failures (which should be retried) fail a batch. Provisioned mode adds a
            # retry limit (then the on-failure destination), bisection and partial-batch
            # responses, but every minimum poller is billed around the clock, traffic or not.
            provisioned_poller_config=(
                aws.lambda_.EventSourceMappingProvisionedPollerConfigArgs(
                    minimum_pollers=args.provisioned_pollers,
                    maximum_pollers=args.maximum_pollers,
                ) if provisioned else None
            ),
            maximum_retry_attempts=args.maximum_retry_attempts if provisioned else None,
            bisect_batch_on_function_error=(
                args.bisect_batch_on_function_error if provisioned else None
            ),
            function_response_types=(
                ["ReportBatchItemFailures"]
                if provisioned and args.report_batch_item_failures else None
            ),
            tags=tags,
            opts=self._child(
                # Destroy order comes from these: the mapping goes first, before the function,
                # its permission, the role's Kafka policy and the endpoint rules its pollers use.
                depends_on=[function, permission, kafka_policy, runtime_role_policy,
                            queue_policy, *network_links],
                # AWS fixes the consumer group and starting position at creation. A changed
                # value means a new mapping: delete the old one first (two mappings of the same
                # function, cluster and topic conflict). With the same group id the new mapping
                # resumes from the group's committed offsets; a new group id starts over at
                # starting_position (TRIM_HORIZON re-reads what the topic retains).
                replace_on_changes=[
                    "amazonManagedKafkaEventSourceConfig",
                    "startingPosition",
                    "topics",
                ],
                delete_before_replace=True,
            ),
        )

        # --- Alarms -----------------------------------------------------------------------
        def alarm(suffix: str, description: str, **kwargs: Any) -> aws.cloudwatch.MetricAlarm:
            return aws.cloudwatch.MetricAlarm(
                f"{name}-{suffix}",
                alarm_description=description,
                comparison_operator="GreaterThanThreshold",
                # No data means nothing happened (no messages, no invocations): not an alarm.
                treat_missing_data="notBreaching",
                alarm_actions=list(args.alarm_actions),
                ok_actions=list(args.alarm_actions),
                tags=tags,
                opts=self._child(),
                **kwargs,
            )

        dlq_alarm = alarm(
            "dead-letters",
            "Dead letters are waiting: poison records or discarded batches need a look / replay.",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": queue.name},
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            threshold=0,
        )
        errors_alarm = alarm(
            "errors",
            "The consumer function failed invocations (batches are being retried).",
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions={"FunctionName": function.name},
            statistic="Sum",
            period=300,
            evaluation_periods=1,
            threshold=0,
        )
        # OffsetLag: records between the end of the topic and the group's committed offset,
        # which Lambda publishes per function for Kafka event sources.
        lag_alarm = alarm(
            "offset-lag",
            "The consumer is falling behind the topic.",
            namespace="AWS/Lambda",
            metric_name="OffsetLag",
            dimensions={"FunctionName": function.name},
            statistic="Maximum",
            period=300,
            evaluation_periods=3,
            threshold=args.offset_lag_alarm_threshold,
        )

        self.function_name = function.name
        self.function_arn = function.arn
        self.mapping_uuid = mapping.uuid
        self.mapping_arn = mapping.arn
        self.dead_letter_queue_url = queue.url
        self.dead_letter_queue_arn = queue.arn
        self.security_group_id = function_sg.id
        self.role_arn = role.arn
        self.log_group_name = log_group.name
        self.alarm_names = pulumi.Output.all(
            dead_letters=dlq_alarm.name, errors=errors_alarm.name, offset_lag=lag_alarm.name
        )
        self.register_outputs({
            "function_name": self.function_name,
            "function_arn": self.function_arn,
            "mapping_uuid": self.mapping_uuid,
            "mapping_arn": self.mapping_arn,
            "dead_letter_queue_url": self.dead_letter_queue_url,
            "dead_letter_queue_arn": self.dead_letter_queue_arn,
            "security_group_id": self.security_group_id,
            "role_arn": self.role_arn,
            "log_group_name": self.log_group_name,
            "alarm_names": self.alarm_names,
        })

    def _child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        # A fresh options object per child: the SDK may keep a reference to what it is given.
        return pulumi.ResourceOptions(parent=self, **kwargs)


def _resources(value: Any) -> list[pulumi.Resource]:
    """The resources an `allow_endpoint_access` call returned (one, several, or none)."""
    if isinstance(value, pulumi.Resource):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, pulumi.Resource)]
    return []
