"""The consumer: a VPC Lambda fed by an MSK event source mapping, with its dead letters and alarms.

What one `Consumer` creates (all children of the component, logical names prefixed by its name),
in the order `__init__` reads:

- `_dead_letter_queue`: the queue (KMS customer managed key, 14 days, TLS-only, only the consumer
  role sends) that both the handler (records it cannot process, with their payload) and the
  mapping (discarded batches: `KafkaBatchInfo` metadata only) write to, and the bucket for
  letters larger than one SQS message (same key, same retention, TLS-only, no public access);
- `_role`: the execution role: exactly the consumer Kafka policy of components/kafka_access.py,
  the ENI permissions AWS requires for VPC networking (denied to the function's own code), logs
  to its own group, send to its queue, put under its bucket prefix, the key through SQS/S3 only;
- `_function`: arm64 Python in the private subnets with its own security group, whose only
  egress is HTTPS to the SQS endpoint and the S3 gateway;
- `_mapping`: the event source mapping on the provisioned topic (explicit consumer group,
  starting position, batching, on-failure destination; in provisioned mode also the retry
  limit, bisection and partial batch responses), plus the endpoint rules its pollers need;
- `_alarms`: the alarm table (dead letters, errors, offset lag), each notifying `alarm_actions`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
from event_contract.kafka_names import group_id_problem

from components import limits
from components.alarms import AlarmSpec, create_alarms
from components.existing import ExistingTopic, ExistingVpc, require
from components.iam import (
    VERSION,
    account_key_policy,
    deny_insecure_transport,
    render,
)
from components.kafka_access import consumer_kafka_policy
from components.lambda_policies import (
    FUNCTION_ENI_ACTIONS,
    function_eni_statement,
    own_log_group_statement,
)
from components.network import Network
from components.service_code import service_archive
from components.topic import KafkaTopic
from components.vpc_function import VpcFunctionSpec, function_log_group_and_role, vpc_function

STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum
DEAD_LETTER_RETENTION_DAYS = DEAD_LETTER_RETENTION_SECONDS // 86400
# The queue's largest message, set explicitly: "An integer from 1024 bytes (1 KiB) up to 1048576
# bytes (1024 KiB). The default for this attribute is 262144 (256 KiB)" (pulumi-aws, aws.sqs.Queue,
# maxMessageSize; SQS's MaximumMessageSize queue attribute).
# The handler's dead-letter sink splits its batches and moves letters to S3 at this same size
# (event_consumer.sqs_sink.SQS_MAX_BYTES; a test keeps the two equal).
DEAD_LETTER_MAX_MESSAGE_BYTES = 262_144
# Letters larger than one SQS message are stored whole under this prefix, behind a
# pointer in the queue (libs/dead-letter-format: dead_letter_format.S3_PREFIX).
DEAD_LETTER_KEY_PREFIX = "dead-letters/"
SERVICE = "consumer"  # services/consumer: the function's code
HANDLER = "event_consumer.handler.lambda_handler"
RUNTIME = "python3.13"  # the package is built for this Python (lambda_package)
SERVICE_NAME = "event-consumer"  # POWERTOOLS_SERVICE_NAME
METRICS_NAMESPACE = "EventPipeline"  # POWERTOOLS_METRICS_NAMESPACE

# Denied to the function's own code: every ENI action the role holds, from either policy (the
# mapping's pollers need the two Describe* actions besides the function's own list).
DENIED_TO_CODE_ACTIONS = tuple(sorted({
    *FUNCTION_ENI_ACTIONS,
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
}))

# The alarms, one row each. OffsetLag: records between the end of the topic and the group's
# committed offset, which Lambda publishes per function for Kafka event sources.
ALARMS = (
    AlarmSpec("dead-letters", "queue",
              "Dead letters are waiting: poison records or discarded batches need a look / "
              "replay.", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 0),
    AlarmSpec("errors", "function",
              "The consumer function failed invocations (batches are being retried).",
              "AWS/Lambda", "Errors", "Sum", 0),
    AlarmSpec("offset-lag", "function", "The consumer is falling behind the topic.",
              "AWS/Lambda", "OffsetLag", "Maximum", 1000, evaluation_periods=3),
)


@dataclass
class ConsumerArgs:
    """Inputs of a `Consumer`. Everything after `alarm_actions` has a production default."""

    network: Network | ExistingVpc
    """VPC, private subnets, the interface endpoints (sts, lambda, sqs) and the S3 gateway
    endpoint. A `Network`, or an `ExistingVpc` of plain ids."""
    topic: KafkaTopic | ExistingTopic
    """The topic: its cluster, its name, and (a `KafkaTopic`) the deploy step the mapping waits
    for. An `ExistingTopic` names a topic and cluster made elsewhere by plain values."""
    alarm_actions: Sequence[pulumi.Input[str]]
    """Where every alarm goes (e.g. `[AlarmTopic.arn]`); at least one."""
    code: pulumi.Archive | None = None
    """The deployment package. None: built when the program runs from the package's own
    services/consumer (components/service_code.py); tests pass any small `pulumi.AssetArchive`."""
    consumer_group_id: str = "event-consumer"
    """Immutable after creation (see the mapping): choose it once."""
    starting_position: str = "TRIM_HORIZON"
    """TRIM_HORIZON: a new group starts at the oldest retained record, so events written before
    the mapping existed are not lost (LATEST would skip them)."""
    batch_size: int = 100
    """Records per invocation, 1-10000."""
    batching_window_seconds: int = 1
    """0-300."""
    provisioned_pollers: int = 0
    """0 = on-demand pollers (no fixed cost). >= 1 = provisioned mode with that many minimum
    pollers; only then do the retry limit, bisection and partial batch responses exist."""
    maximum_retry_attempts: int = 3
    """Provisioned mode only; 0-10000 (-1: until it succeeds), then the batch goes to the
    on-failure destination."""
    memory_mb: int = 256
    """Function memory, 128-10240 MiB."""
    timeout_seconds: int = 60
    """Function timeout, at most 840 s behind an MSK mapping."""
    reserved_concurrency: int | None = None
    """None = share the account's unreserved pool."""
    log_retention_days: int = 14
    """CloudWatch Logs retention of the function's log group."""
    offset_lag_alarm_threshold: int = 1000
    """Records behind the end of the topic before the offset-lag alarm fires."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable resource."""

    def __post_init__(self) -> None:
        problems = [p for p in self._problems() if p]
        if problems:
            raise ValueError("invalid ConsumerArgs: " + "; ".join(problems))

    def _problems(self) -> list[str | None]:
        def outside(field_name: str, low: int, high: int) -> str | None:
            value = getattr(self, field_name)
            return None if low <= value <= high else f"{field_name} {value} is not in {low}-{high}"

        return [
            require("ConsumerArgs", "network", self.network, Network, ExistingVpc),
            require("ConsumerArgs", "topic", self.topic, KafkaTopic, ExistingTopic),
            None if self.starting_position in STARTING_POSITIONS else
            f"starting_position {self.starting_position!r} is not one of "
            f"{', '.join(STARTING_POSITIONS)}",
            None if group_id_problem(self.consumer_group_id) is None else
            f"consumer_group_id {self.consumer_group_id!r}: "
            f"{group_id_problem(self.consumer_group_id)} (a wildcard would widen the group ARN)",
            # AWS's limits, each declared once with its page (components/limits.py).
            outside("batch_size", *limits.MSK_MAPPING_BATCH_SIZE),
            outside("batching_window_seconds", *limits.MAPPING_BATCHING_WINDOW_S),
            outside("provisioned_pollers", 0, limits.MAPPING_MINIMUM_POLLERS[1]),
            outside("maximum_retry_attempts", *limits.KAFKA_MAPPING_RETRY_ATTEMPTS),
            outside("memory_mb", *limits.LAMBDA_MEMORY_MB),
            outside("timeout_seconds", 1, limits.MSK_MAPPED_FUNCTION_MAX_TIMEOUT_S),
            None if self.reserved_concurrency is None or self.reserved_concurrency >= 0 else
            f"reserved_concurrency {self.reserved_concurrency} is negative",
            None if self.alarm_actions else "alarm_actions is empty: alarms must notify someone",
        ]

    @property
    def provisioned(self) -> bool:
        return self.provisioned_pollers >= 1


# --- Policy documents (pure functions of resolved values; unit-testable on their own) ---------


def runtime_policy(log_group_arn: str, queue_arn: str, bucket_arn: str, key_arn: str,
                   region: str) -> dict[str, Any]:
    """Everything the role needs besides Kafka; no wildcard but the ENI actions AWS requires."""
    return {
        "Version": VERSION,
        "Statement": [
            function_eni_statement(),
            own_log_group_statement(log_group_arn),
            {
                # The handler dead-letters records; the mapping delivers discarded batches with
                # the same role (AWS: "your execution role must have permissions for the
                # destination").
                "Sid": "SendToOwnDeadLetterQueue",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
            },
            {
                "Sid": "PutOversizedDeadLettersUnderOwnPrefix",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{DEAD_LETTER_KEY_PREFIX}*",
            },
            {
                "Sid": "DeadLetterKeyThroughSqsOnly",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{region}.amazonaws.com"}},
            },
            {
                # PutObject under SSE-KMS asks KMS for a data key on the caller's behalf.
                "Sid": "DeadLetterKeyThroughS3Only",
                "Effect": "Allow",
                "Action": "kms:GenerateDataKey",
                "Resource": key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
        ],
    }


def dead_letter_queue_policy(queue_arn: str, role_arn: str) -> dict[str, Any]:
    """Send only by the consumer role; nothing over plain HTTP; no anonymous principal allowed."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ConsumerRoleSends",
                "Effect": "Allow",
                "Principal": {"AWS": role_arn},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
            },
            deny_insecure_transport([queue_arn], "sqs:*"),
        ],
    }


def dead_letter_bucket_policy(bucket_arn: str) -> dict[str, Any]:
    """Nothing over plain HTTP (S3 guide, "Bucket policy examples": aws:SecureTransport)."""
    return {"Version": VERSION,
            "Statement": [deny_insecure_transport([bucket_arn, f"{bucket_arn}/*"], "s3:*")]}


class Consumer(pulumi.ComponentResource):
    """The consumer Lambda, its MSK event source mapping, dead letters and alarms."""

    function_name: pulumi.Output[str]
    """The consumer function."""
    function_arn: pulumi.Output[str]
    """Its ARN."""
    mapping_uuid: pulumi.Output[str]
    """The event source mapping's UUID."""
    mapping_arn: pulumi.Output[str]
    """The event source mapping's ARN."""
    dead_letter_queue_url: pulumi.Output[str]
    """The dead-letter queue."""
    dead_letter_queue_arn: pulumi.Output[str]
    """The dead-letter queue's ARN."""
    dead_letter_queue_name: pulumi.Output[str]
    """The dead-letter queue's name (the dashboard's SQS metrics dimension)."""
    dead_letter_bucket_name: pulumi.Output[str]
    """The bucket of dead letters larger than one SQS message."""
    security_group_id: pulumi.Output[str]
    """The function's security group."""
    role_arn: pulumi.Output[str]
    """The execution role."""
    log_group_name: pulumi.Output[str]
    """The function's log group."""
    alarm_names: pulumi.Output[dict[str, str]]
    """The alarms, by kind (dead_letters, errors, offset_lag)."""

    def __init__(
        self, name: str, args: ConsumerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("event-pipeline:consumer:Consumer", name, None, opts)
        self._name, self._args = name, args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        self._account_id = aws.get_caller_identity_output(opts=invoke).account_id
        self._partition = aws.get_partition_output(opts=invoke).partition
        self._region = aws.get_region_output(opts=invoke).region

        key, queue, bucket = self._dead_letter_queue()
        role, log_group, role_policies = self._role(key, queue, bucket)
        function, security_group, function_links = self._function(
            role, log_group, queue, bucket, role_policies)
        mapping = self._mapping(function, queue, [*role_policies, *function_links])
        alarms = self._alarms(function, queue)

        self.function_name = function.name
        self.function_arn = function.arn
        self.mapping_uuid = mapping.uuid
        self.mapping_arn = mapping.arn
        self.dead_letter_queue_url = queue.url
        self.dead_letter_queue_arn = queue.arn
        self.dead_letter_queue_name = queue.name
        self.dead_letter_bucket_name = bucket.bucket
        self.security_group_id = security_group.id
        self.role_arn = role.arn
        self.log_group_name = log_group.name
        self.alarm_names = pulumi.Output.all(**{
            suffix.replace("-", "_"): alarm.name for suffix, alarm in alarms.items()})
        self.register_outputs({
            "function_name": self.function_name,
            "function_arn": self.function_arn,
            "mapping_uuid": self.mapping_uuid,
            "mapping_arn": self.mapping_arn,
            "dead_letter_queue_url": self.dead_letter_queue_url,
            "dead_letter_queue_arn": self.dead_letter_queue_arn,
            "dead_letter_queue_name": self.dead_letter_queue_name,
            "dead_letter_bucket_name": self.dead_letter_bucket_name,
            "security_group_id": self.security_group_id,
            "role_arn": self.role_arn,
            "log_group_name": self.log_group_name,
            "alarm_names": self.alarm_names,
        })

    def _child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        # A fresh options object per child: the SDK may keep a reference to what it is given.
        return pulumi.ResourceOptions(parent=self, **kwargs)

    # --- steps ------------------------------------------------------------------------------

    def _dead_letter_queue(self) -> tuple[aws.kms.Key, aws.sqs.Queue, aws.s3.Bucket]:
        name, tags = self._name, dict(self._args.tags)
        # A customer managed key (not SSE-SQS/SSE-S3) so that reading dead letters - full
        # payloads of real events - needs an explicit KMS grant on top of the read permission.
        key = aws.kms.Key(
            f"{name}-dlq-key",
            description=f"{name}: dead-letter queue and bucket encryption",
            enable_key_rotation=True,
            deletion_window_in_days=7,
            policy=render(account_key_policy, self._partition, self._account_id),
            tags=tags,
            opts=self._child(),
        )
        queue = aws.sqs.Queue(
            f"{name}-dlq",
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            max_message_size=DEAD_LETTER_MAX_MESSAGE_BYTES,
            kms_master_key_id=key.arn,
            # Fewer KMS calls (and cost) per message; 5 minutes is SQS's default.
            kms_data_key_reuse_period_seconds=300,
            tags=tags,
            opts=self._child(),
        )
        return key, queue, self._dead_letter_bucket(key)

    def _dead_letter_bucket(self, key: aws.kms.Key) -> aws.s3.Bucket:
        name = self._name
        # No force_destroy here (a bucket holding dead letters is kept by default): whether
        # `pulumi destroy` may empty it is the stack's decision, `retainData`, applied to every
        # stateful resource by one stack transformation (settings/retention.py).
        bucket = aws.s3.Bucket(f"{name}-dlq-bucket", tags=dict(self._args.tags),
                               opts=self._child())
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-dlq-bucket-encryption", bucket=bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3
                .BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=key.arn),
                # S3 Bucket Keys: far fewer KMS requests (S3 guide, "Reducing the cost of
                # SSE-KMS with Amazon S3 Bucket Keys").
                bucket_key_enabled=True)],
            opts=self._child())
        aws.s3.BucketPublicAccessBlock(
            f"{name}-dlq-bucket-public-access", bucket=bucket.id, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
            opts=self._child())
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-dlq-bucket-lifecycle", bucket=bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-with-the-queue", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                # A pointer outlives its object never: both go after the queue's retention.
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    days=DEAD_LETTER_RETENTION_DAYS),
                abort_incomplete_multipart_upload=aws.s3
                .BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=1))],
            opts=self._child())
        aws.s3.BucketPolicy(
            f"{name}-dlq-bucket-policy", bucket=bucket.id,
            policy=render(dead_letter_bucket_policy, bucket.arn), opts=self._child())
        return bucket

    def _role(self, key: aws.kms.Key, queue: aws.sqs.Queue, bucket: aws.s3.Bucket
              ) -> tuple[aws.iam.Role, aws.cloudwatch.LogGroup, list[pulumi.Resource]]:
        name, args, tags = self._name, self._args, dict(self._args.tags)
        log_group, role = function_log_group_and_role(
            self, name, description=f"{name}: consumer Lambda and its MSK event source mapping",
            retention_days=args.log_retention_days, account_id=self._account_id, tags=tags)
        # Exactly the consumer policy of components/kafka_access.py, as its own document.
        kafka_policy = aws.iam.RolePolicy(
            f"{name}-kafka", role=role.id,
            policy=render(lambda arn: consumer_kafka_policy(
                arn, args.topic.topic_name, args.consumer_group_id), args.topic.cluster.arn),
            opts=self._child())
        runtime = aws.iam.RolePolicy(
            f"{name}-runtime", role=role.id,
            policy=render(runtime_policy, log_group.arn, queue.arn, bucket.arn, key.arn,
                          self._region),
            opts=self._child())
        queue_policy = aws.sqs.QueuePolicy(
            f"{name}-dlq-policy", queue_url=queue.url,
            policy=render(dead_letter_queue_policy, queue.arn, role.arn), opts=self._child())
        return role, log_group, [kafka_policy, runtime, queue_policy]

    def _function(self, role: aws.iam.Role, log_group: aws.cloudwatch.LogGroup,
                  queue: aws.sqs.Queue, bucket: aws.s3.Bucket, role_policies: list[pulumi.Resource],
                  ) -> tuple[aws.lambda_.Function, aws.ec2.SecurityGroup, list[pulumi.Resource]]:
        name, args = self._name, self._args
        # AWS releases a deleted VPC function's Hyperplane ENIs only after 20-40 minutes, and
        # the group cannot be deleted while one still uses it: give the delete that long.
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.network.vpc_id,
            description="Consumer Lambda: HTTPS egress to the SQS and S3 endpoints only",
            tags=dict(args.tags),
            opts=self._child(custom_timeouts=pulumi.CustomTimeouts(delete="45m")))
        # Only the dead letters' endpoints. Logs and EMF metrics leave through the Lambda
        # service, not the function's ENI; credentials come from the runtime (no STS).
        links = [rule for endpoint in ("sqs", "s3") for rule in args.network.allow_endpoint_access(
            f"{name}-function", endpoint, security_group.id, parent=self)]
        function = vpc_function(self, name, VpcFunctionSpec(
            role=role, code=args.code or service_archive(SERVICE, RUNTIME),
            handler=HANDLER, runtime=RUNTIME,
            memory_mb=args.memory_mb, timeout_seconds=args.timeout_seconds,
            reserved_concurrency=args.reserved_concurrency, log_group=log_group,
            subnet_ids=args.network.private_subnet_ids, security_group=security_group,
            environment={
                "DEAD_LETTER_QUEUE_URL": queue.url,
                "DEAD_LETTER_BUCKET": bucket.bucket,
                # "true" exactly when the mapping has ReportBatchItemFailures (see _mapping).
                "REPORT_BATCH_ITEM_FAILURES": "true" if args.provisioned else "false",
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
            denied_to_code=DENIED_TO_CODE_ACTIONS, tags=args.tags,
        ), depends_on=role_policies)
        return function, security_group, links

    def _mapping(self, function: aws.lambda_.Function, queue: aws.sqs.Queue,
                 needs: list[pulumi.Resource]) -> aws.lambda_.EventSourceMapping:
        name, args = self._name, self._args
        cluster = args.topic.cluster
        # The mapping invokes the function with the execution role; this resource policy
        # additionally lets only this cluster, in this account, be named as an invoking source.
        permission = aws.lambda_.Permission(
            f"{name}-from-cluster", action="lambda:InvokeFunction", function=function.name,
            principal="kafka.amazonaws.com", source_arn=cluster.arn,
            source_account=self._account_id, opts=self._child())
        # The pollers run in the cluster's subnets with the cluster's security group (AWS: "the
        # hyperplane ENI uses the subnet and security group configuration of your MSK
        # cluster"). Without a NAT gateway they reach STS (to assume the execution role),
        # Lambda (to invoke the function) and the on-failure destination only through the
        # interface endpoints - so those must admit the *cluster's* group, or a discarded batch
        # is never delivered and its partition stays blocked.
        poller_links = [rule for endpoint in ("sts", "lambda", "sqs")
                        for rule in args.network.allow_endpoint_access(
                            f"{name}-mapping", endpoint, cluster.security_group_id,
                            parent=self)]
        provisioned = args.provisioned
        return aws.lambda_.EventSourceMapping(
            f"{name}-mapping",
            event_source_arn=cluster.arn,
            function_name=function.arn,
            topics=[args.topic.topic_name],
            starting_position=args.starting_position,
            batch_size=args.batch_size,
            maximum_batching_window_in_seconds=args.batching_window_seconds,
            amazon_managed_kafka_event_source_config=(
                aws.lambda_.EventSourceMappingAmazonManagedKafkaEventSourceConfigArgs(
                    consumer_group_id=args.consumer_group_id)),
            # On failure AWS sends only metadata (KafkaBatchInfo: topic, partition, offsets) to
            # an SQS destination (Lambda guide, "Capturing discarded batches for Amazon MSK and
            # self-managed Apache Kafka event sources"); the replay tool re-reads those offsets
            # from Kafka within retention. The handler's payload letters share the queue.
            destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=queue.arn)),
            # On-demand mode (the default) has no fixed cost but no retry controls: AWS retries a
            # failed batch until it succeeds or its records expire, blocking the partition
            # meanwhile; the handler dead-letters bad records itself, so only transient failures
            # fail a batch. Provisioned mode adds a retry limit (then the on-failure
            # destination), bisection and partial batch responses (Lambda guide, "Configuring
            # error handling controls for Kafka event sources", provisioned mode only), but every
            # minimum poller is billed around the clock.
            provisioned_poller_config=(
                aws.lambda_.EventSourceMappingProvisionedPollerConfigArgs(
                    minimum_pollers=args.provisioned_pollers) if provisioned else None),
            maximum_retry_attempts=args.maximum_retry_attempts if provisioned else None,
            bisect_batch_on_function_error=True if provisioned else None,
            # The handler returns batchItemFailures exactly when REPORT_BATCH_ITEM_FAILURES is
            # "true" (set from the same flag in _function).
            function_response_types=["ReportBatchItemFailures"] if provisioned else None,
            tags=dict(args.tags),
            opts=self._child(
                # Destroy order comes from these: the mapping goes first, before the function,
                # its permission, the role's policies and the endpoint rules its pollers use;
                # and it starts only once its topic is provisioned.
                depends_on=[function, permission, *needs, *poller_links,
                            *([args.topic.ready] if args.topic.ready else [])],
                # AWS fixes the consumer group and starting position at creation. A changed
                # value means a new mapping: delete the old one first (two mappings of the same
                # function, cluster and topic conflict). With the same group id the new mapping
                # resumes from the group's committed offsets; a new group id starts over at
                # starting_position (TRIM_HORIZON re-reads what the topic retains).
                replace_on_changes=[
                    "amazonManagedKafkaEventSourceConfig", "startingPosition", "topics"],
                delete_before_replace=True,
            ),
        )

    def _alarms(self, function: aws.lambda_.Function, queue: aws.sqs.Queue
                ) -> dict[str, aws.cloudwatch.MetricAlarm]:
        args = self._args
        specs = [dataclasses.replace(spec, threshold=args.offset_lag_alarm_threshold)
                 if spec.suffix == "offset-lag" else spec for spec in ALARMS]
        return create_alarms(
            self, self._name, specs,
            targets={"queue": {"QueueName": queue.name},
                     "function": {"FunctionName": function.name}},
            actions=args.alarm_actions, tags=args.tags)
