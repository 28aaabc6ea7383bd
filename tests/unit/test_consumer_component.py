"""The Consumer component under Pulumi mocks, wired to the real Network and KafkaCluster.

Every test reads what the engine was asked to register (inputs, parents, dependencies, resource
options), so a wrong property, a missing grant or a wildcard fails here, not in `pulumi up`.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from event_consumer.sqs_sink import SQS_MAX_BYTES

from components.consumer import (
    DEAD_LETTER_KEY_PREFIX,
    DEAD_LETTER_MAX_MESSAGE_BYTES,
    DEAD_LETTER_RETENTION_SECONDS,
    DENIED_TO_CODE_ACTIONS,
    Consumer,
    ConsumerArgs,
)
from components.kafka import KafkaCluster, KafkaClusterArgs
from components.kafka_access import consumer_kafka_policy
from components.lambda_policies import FUNCTION_ENI_ACTIONS
from components.network import FARGATE_ENDPOINTS, KAFKA_ENDPOINTS, Network, NetworkArgs
from components.topic import KafkaTopic, KafkaTopicArgs
from testing.pulumi_harness import ACCOUNT_ID, BOOTSTRAPPED_POOL_ID, REGION, PulumiRun
from testing.run_cache import RunCache

CONSUMER = "event-pipeline:consumer:Consumer"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
PERMISSION = "aws:lambda/permission:Permission"
MSK = "aws:msk/serverlessCluster:ServerlessCluster"
TOPIC = "events"
ALARM_TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms"
BUCKET = "aws:s3/bucket:Bucket"
INVOCATION = "aws:lambda/invocation:Invocation"

# The extras the role may hold besides the MSK component's consumer policy - nothing else.
EXTRA_ACTIONS = {
    *FUNCTION_ENI_ACTIONS,
    "logs:CreateLogStream", "logs:PutLogEvents",
    "sqs:SendMessage",
    "s3:PutObject",
    "kms:GenerateDataKey", "kms:Decrypt",
}


def _code() -> pulumi.Archive:
    return pulumi.AssetArchive({"event_consumer/handler.py": pulumi.StringAsset("")})


def _stack(names: tuple[str, ...] = ("consumer",), **overrides: Any):
    def program() -> None:
        network = Network("net", NetworkArgs(
            ipam_pool_id=BOOTSTRAPPED_POOL_ID,
            interface_endpoints=FARGATE_ENDPOINTS + KAFKA_ENDPOINTS))
        kafka = KafkaCluster("kafka", KafkaClusterArgs(
            vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids))
        topic = KafkaTopic("topic", KafkaTopicArgs(
            cluster=kafka, network=network, code=_code(), topic_name=TOPIC))
        for name in names:
            kwargs: dict[str, Any] = {
                "code": _code(), "network": network, "topic": topic,
                "alarm_actions": [ALARM_TOPIC],
            }
            kwargs.update(overrides)
            consumer = Consumer(name, ConsumerArgs(**kwargs))
            pulumi.export(f"{name}_function_name", consumer.function_name)

    return program


# The default stack, run once for the tests that only read it; each gets its own copy.
_DEFAULT_STACK = RunCache()


@pytest.fixture
def run(run_pulumi) -> PulumiRun:
    return _DEFAULT_STACK.get("one consumer, default args", lambda: run_pulumi(_stack()))


def _consumer_children(run: PulumiRun, name: str = "consumer") -> list:
    component = run.one(CONSUMER, name)
    return run.children_of(component.urn)


def _child(run: PulumiRun, type_: str, name: str):
    found = [r for r in _consumer_children(run) if r.type == type_ and r.name == name]
    assert len(found) == 1, f"expected one {type_} {name}, got {len(found)}"
    return found[0]


def _doc(resource, key: str = "policy") -> dict[str, Any]:
    return json.loads(resource.inputs[key])


def _cluster_arn(run: PulumiRun) -> str:
    return run.one(MSK).outputs["arn"]


def _cluster_sg_id(run: PulumiRun) -> str:
    return run.one(SG, "kafka-sg").id


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


# --- Event source mapping ---------------------------------------------------------------------


def test_mapping_reads_the_topic_of_the_cluster_into_the_function(run):
    mapping = _child(run, MAPPING, "consumer-mapping").inputs
    function = _child(run, FUNCTION, "consumer-function")
    queue = _child(run, QUEUE, "consumer-dlq")

    assert mapping["eventSourceArn"] == _cluster_arn(run)
    assert mapping["functionName"] == function.outputs["arn"]
    assert mapping["topics"] == [TOPIC]
    # Default TRIM_HORIZON: events written before the mapping existed are not skipped.
    assert mapping["startingPosition"] == "TRIM_HORIZON"
    assert mapping["batchSize"] == 100
    assert mapping["maximumBatchingWindowInSeconds"] == 1
    assert mapping["amazonManagedKafkaEventSourceConfig"] == {"consumerGroupId": "event-consumer"}
    assert mapping["destinationConfig"] == {
        "onFailure": {"destinationArn": queue.outputs["arn"]}}


def test_on_demand_mode_sets_no_provisioned_only_settings(run):
    mapping = _child(run, MAPPING, "consumer-mapping").inputs
    for key in ("provisionedPollerConfig", "maximumRetryAttempts",
                "bisectBatchOnFunctionError", "functionResponseTypes"):
        assert key not in mapping, key


def test_configured_values_reach_the_mapping(run_pulumi):
    run = run_pulumi(_stack(starting_position="LATEST", batch_size=7,
                            batching_window_seconds=30, consumer_group_id="billing"))
    mapping = _child(run, MAPPING, "consumer-mapping").inputs
    assert mapping["startingPosition"] == "LATEST"
    assert mapping["batchSize"] == 7
    assert mapping["maximumBatchingWindowInSeconds"] == 30
    assert mapping["amazonManagedKafkaEventSourceConfig"] == {"consumerGroupId": "billing"}
    # The role's group permission follows the configured group.
    kafka_policy = _doc(_child(run, ROLE_POLICY, "consumer-kafka"))
    assert kafka_policy == consumer_kafka_policy(_cluster_arn(run), TOPIC, "billing")


def test_provisioned_mode_brings_retry_limit_bisection_and_partial_batches(run_pulumi):
    run = run_pulumi(_stack(provisioned_pollers=2, maximum_retry_attempts=4))
    mapping = _child(run, MAPPING, "consumer-mapping").inputs
    assert mapping["provisionedPollerConfig"] == {"minimumPollers": 2}
    assert mapping["maximumRetryAttempts"] == 4
    assert mapping["bisectBatchOnFunctionError"] is True
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    # ...and the handler is told to answer with batchItemFailures.
    variables = _child(run, FUNCTION, "consumer-function").inputs["environment"]["variables"]
    assert variables["REPORT_BATCH_ITEM_FAILURES"] == "true"


def test_partial_batch_responses_only_where_the_handler_reports_them(run):
    # On-demand mode has no partial batch responses (Lambda guide, "Configuring error handling
    # controls for Kafka event sources": provisioned mode): the handler must not report them.
    mapping = _child(run, MAPPING, "consumer-mapping").inputs
    variables = _child(run, FUNCTION, "consumer-function").inputs["environment"]["variables"]
    assert "functionResponseTypes" not in mapping
    assert variables["REPORT_BATCH_ITEM_FAILURES"] == "false"


def test_mapping_is_created_after_and_destroyed_before_what_it_uses(run):
    mapping = _child(run, MAPPING, "consumer-mapping")
    depends_on = {run.by_urn(urn).name for urn in mapping.dependencies}
    assert {"consumer-function", "consumer-from-cluster", "consumer-kafka",
            "consumer-runtime", "consumer-dlq-policy"} <= depends_on
    # ...and it never starts before its topic is provisioned.
    assert run.one(INVOCATION).urn in mapping.dependencies
    # ...and after the endpoint rules its pollers need (sts, lambda, sqs for the cluster SG).
    for endpoint in KAFKA_ENDPOINTS:
        assert f"net-consumer-mapping-{endpoint}-ingress" in depends_on


def test_immutable_mapping_settings_replace_it_old_one_first(run):
    mapping = run.named("consumer-mapping").options
    assert set(mapping["replace_on_changes"]) == {
        "amazonManagedKafkaEventSourceConfig", "startingPosition", "topics"}
    assert mapping["delete_before_replace"] is True


@pytest.mark.parametrize(("field", "value", "message"), [
    ("starting_position", "AT_TIMESTAMP", "starting_position"),
    ("consumer_group_id", "group-*", "consumer_group_id"),
    ("consumer_group_id", "", "consumer_group_id"),
    ("batch_size", 0, "batch_size"),
    ("batch_size", 10001, "batch_size"),
    ("batching_window_seconds", 301, "batching_window_seconds"),
    ("provisioned_pollers", -1, "provisioned_pollers"),
    ("maximum_retry_attempts", 10001, "maximum_retry_attempts"),
    ("reserved_concurrency", -1, "reserved_concurrency"),
    # Lambda guide, "Configuring Amazon MSK event sources for Lambda": at most 14 minutes.
    ("timeout_seconds", 841, "timeout_seconds 841 is not in 1-840"),
    ("memory_mb", 64, "memory_mb"),
    ("alarm_actions", [], "alarm_actions is empty"),
])
def test_invalid_args_are_rejected_with_the_field_named(field, value, message):
    kwargs = {"code": _code(), "network": None, "topic": None, "alarm_actions": [ALARM_TOPIC]}
    with pytest.raises(ValueError, match=message):
        ConsumerArgs(**{**kwargs, field: value})


# --- IAM --------------------------------------------------------------------------------------


def test_role_is_assumable_only_by_lambda_for_this_account(run):
    trust = _doc(_child(run, ROLE, "consumer-role"), "assumeRolePolicy")
    assert trust["Statement"] == [{
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
    }]


def test_kafka_policy_is_exactly_the_msk_components_consumer_policy(run):
    kafka_policy = _doc(_child(run, ROLE_POLICY, "consumer-kafka"))
    assert kafka_policy == consumer_kafka_policy(_cluster_arn(run), TOPIC, "event-consumer")


def test_role_holds_the_consumer_policy_plus_the_listed_extras_only(run):
    role = _child(run, ROLE, "consumer-role")
    policies = [r for r in run.of_type(ROLE_POLICY) if r.inputs["role"] == role.id]
    assert {p.name for p in policies} == {
        "consumer-kafka", "consumer-runtime", "consumer-deny-eni-to-code"}
    assert not run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert "managedPolicyArns" not in role.inputs and "inlinePolicies" not in role.inputs

    consumer_actions = {
        action for statement in consumer_kafka_policy(
            _cluster_arn(run), TOPIC, "event-consumer")["Statement"]
        for action in _as_list(statement["Action"])
    }
    allowed = {
        action for policy in policies for statement in _doc(policy)["Statement"]
        if statement["Effect"] == "Allow" for action in _as_list(statement["Action"])
    }
    assert allowed == consumer_actions | EXTRA_ACTIONS


def test_runtime_policy_scopes_every_grant_to_exact_arns(run):
    log_group = _child(run, LOG_GROUP, "consumer-logs").outputs["arn"]
    queue = _child(run, QUEUE, "consumer-dlq").outputs["arn"]
    key = _child(run, KEY, "consumer-dlq-key").outputs["arn"]
    statements = {s["Sid"]: s for s in _doc(_child(run, ROLE_POLICY, "consumer-runtime"))[
        "Statement"]}

    assert statements["OwnLogGroupOnly"]["Resource"] == f"{log_group}:*"
    assert set(statements["OwnLogGroupOnly"]["Action"]) == {
        "logs:CreateLogStream", "logs:PutLogEvents"}
    assert statements["SendToOwnDeadLetterQueue"]["Resource"] == queue
    assert statements["SendToOwnDeadLetterQueue"]["Action"] == "sqs:SendMessage"
    kms = statements["DeadLetterKeyThroughSqsOnly"]
    assert kms["Resource"] == key
    assert kms["Condition"] == {
        "StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}}
    # Oversized letters: put only, only under the letters' prefix, the key only through S3.
    bucket = _child(run, BUCKET, "consumer-dlq-bucket").outputs["arn"]
    put = statements["PutOversizedDeadLettersUnderOwnPrefix"]
    assert (put["Action"], put["Resource"]) == ("s3:PutObject",
                                                f"{bucket}/{DEAD_LETTER_KEY_PREFIX}*")
    through_s3 = statements["DeadLetterKeyThroughS3Only"]
    assert (through_s3["Action"], through_s3["Resource"]) == ("kms:GenerateDataKey", key)
    assert through_s3["Condition"] == {
        "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}
    # "*" only where AWS requires it: the ENI actions, and nowhere else.
    for statement in statements.values():
        if statement["Resource"] == "*":
            assert set(statement["Action"]) <= set(FUNCTION_ENI_ACTIONS), statement["Sid"]
        assert "*" not in _as_list(statement["Action"])


def test_function_code_is_denied_every_eni_action_the_role_holds(run):
    function_arn = _child(run, FUNCTION, "consumer-function").outputs["arn"]
    deny = _doc(_child(run, ROLE_POLICY, "consumer-deny-eni-to-code"))["Statement"]
    assert len(deny) == 1 and deny[0]["Effect"] == "Deny"
    assert deny[0]["Condition"] == {"ArnEquals": {"lambda:SourceFunctionArn": function_arn}}

    ec2_allowed = {
        action for policy in ("consumer-kafka", "consumer-runtime")
        for statement in _doc(_child(run, ROLE_POLICY, policy))["Statement"]
        for action in _as_list(statement["Action"]) if action.startswith("ec2:")
    }
    assert ec2_allowed <= set(deny[0]["Action"]) == set(DENIED_TO_CODE_ACTIONS)


def test_lambda_permission_is_scoped_to_the_cluster_and_account(run):
    permission = _child(run, PERMISSION, "consumer-from-cluster").inputs
    assert permission["function"] == _child(run, FUNCTION, "consumer-function").outputs["name"]
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["sourceArn"] == _cluster_arn(run)
    assert permission["sourceAccount"] == ACCOUNT_ID


# --- Dead-letter queue ------------------------------------------------------------------------


def test_queue_is_encrypted_with_its_own_rotating_key_and_keeps_14_days(run):
    queue = _child(run, QUEUE, "consumer-dlq").inputs
    key = _child(run, KEY, "consumer-dlq-key")
    assert queue["kmsMasterKeyId"] == key.outputs["arn"]
    assert queue["messageRetentionSeconds"] == DEAD_LETTER_RETENTION_SECONDS == 1_209_600
    # The queue's own size limit is the one the handler's sink splits and offloads at.
    assert queue["maxMessageSize"] == DEAD_LETTER_MAX_MESSAGE_BYTES == SQS_MAX_BYTES == 262_144
    assert "sqsManagedSseEnabled" not in queue
    assert key.inputs["enableKeyRotation"] is True
    principals = [s["Principal"] for s in _doc(key)["Statement"]]
    assert principals == [{"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}]


def test_queue_policy_is_tls_only_and_allows_only_the_consumer_role(run):
    queue = _child(run, QUEUE, "consumer-dlq")
    role_arn = _child(run, ROLE, "consumer-role").outputs["arn"]
    policy_resource = _child(run, QUEUE_POLICY, "consumer-dlq-policy")
    assert policy_resource.inputs["queueUrl"] == queue.outputs["url"]
    statements = _doc(policy_resource)["Statement"]

    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert denies == [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
        "Resource": [queue.outputs["arn"]],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows == [{
        "Sid": "ConsumerRoleSends", "Effect": "Allow", "Principal": {"AWS": role_arn},
        "Action": "sqs:SendMessage", "Resource": queue.outputs["arn"],
    }]
    for statement in allows:  # no anonymous access, in any spelling
        assert statement["Principal"] not in ("*", {"AWS": "*"})
        assert "Condition" not in statement


def test_the_dead_letter_bucket_is_private_tls_only_and_encrypted_with_the_queues_key(run):
    bucket = _child(run, BUCKET, "consumer-dlq-bucket")
    key = _child(run, KEY, "consumer-dlq-key").outputs["arn"]
    encryption = _child(run, "aws:s3/bucketServerSideEncryptionConfiguration:"
                             "BucketServerSideEncryptionConfiguration",
                        "consumer-dlq-bucket-encryption").inputs
    assert encryption["bucket"] == bucket.id
    (rule,) = encryption["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": key}
    assert rule["bucketKeyEnabled"] is True
    block = _child(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                   "consumer-dlq-bucket-public-access").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy",
                                          "ignorePublicAcls", "restrictPublicBuckets"))
    (deny,) = _doc(_child(run, "aws:s3/bucketPolicy:BucketPolicy",
                          "consumer-dlq-bucket-policy"))["Statement"]
    arn = bucket.outputs["arn"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Resource"] == [arn, f"{arn}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_oversized_letters_expire_with_the_queue(run):
    lifecycle = _child(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                       "consumer-dlq-bucket-lifecycle").inputs
    (rule,) = lifecycle["rules"]
    assert rule["status"] == "Enabled"
    assert rule["expiration"]["days"] * 86400 == DEAD_LETTER_RETENTION_SECONDS
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}


# --- Function and networking ------------------------------------------------------------------


def test_function_is_arm64_python_in_the_private_subnets_with_its_own_group(run):
    function = _child(run, FUNCTION, "consumer-function").inputs
    sg = _child(run, SG, "consumer-sg")
    log_group = _child(run, LOG_GROUP, "consumer-logs")
    queue = _child(run, QUEUE, "consumer-dlq")
    private_subnets = [r.id for r in sorted(run.of_type("aws:ec2/subnet:Subnet"),
                                            key=lambda r: r.name)
                       if r.inputs["tags"]["tier"] == "private"]

    assert function["architectures"] == ["arm64"]
    assert function["runtime"] == "python3.13"
    assert function["handler"] == "event_consumer.handler.lambda_handler"
    assert function["role"] == _child(run, ROLE, "consumer-role").outputs["arn"]
    assert function["vpcConfig"]["subnetIds"] == private_subnets and len(private_subnets) == 2
    assert function["vpcConfig"]["securityGroupIds"] == [sg.id]
    assert function["loggingConfig"]["logFormat"] == "JSON"
    assert function["loggingConfig"]["logGroup"] == log_group.outputs["name"]
    assert log_group.inputs["retentionInDays"] == 14
    assert function["memorySize"] == 256 and function["timeout"] == 60
    assert "reservedConcurrentExecutions" not in function
    assert function["environment"]["variables"] == {
        "DEAD_LETTER_QUEUE_URL": queue.outputs["url"],
        "DEAD_LETTER_BUCKET": _child(run, BUCKET, "consumer-dlq-bucket").outputs["bucket"],
        "REPORT_BATCH_ITEM_FAILURES": "false",
        "POWERTOOLS_SERVICE_NAME": "event-consumer",
        "POWERTOOLS_METRICS_NAMESPACE": "EventPipeline",
    }


def test_function_sizing_and_reserved_concurrency_come_from_args(run_pulumi):
    run = run_pulumi(_stack(memory_mb=512, timeout_seconds=120, reserved_concurrency=5,
                            log_retention_days=30))
    function = _child(run, FUNCTION, "consumer-function").inputs
    assert (function["memorySize"], function["timeout"]) == (512, 120)
    assert function["reservedConcurrentExecutions"] == 5
    assert _child(run, LOG_GROUP, "consumer-logs").inputs["retentionInDays"] == 30


def test_function_waits_for_its_log_group_and_eni_permissions(run):
    function = _child(run, FUNCTION, "consumer-function")
    depends_on = {run.by_urn(urn).name for urn in function.dependencies}
    assert {"consumer-logs", "consumer-runtime", "consumer-sg", "consumer-role"} <= depends_on


def _rules_for(run: PulumiRun, type_: str, security_group_id: str) -> list:
    return [r for r in run.of_type(type_) if r.inputs["securityGroupId"] == security_group_id]


def test_function_group_reaches_only_the_sqs_endpoint_and_the_s3_gateway_on_443(run):
    sg = _child(run, SG, "consumer-sg")
    endpoint_sg = {r.name: r.id for r in run.of_type(SG)}
    assert "ingress" not in sg.inputs and "egress" not in sg.inputs  # no inline rules
    s3_prefix_list = next(e for e in run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
                          if e.inputs["vpcEndpointType"] == "Gateway").outputs["prefixListId"]

    egress = _rules_for(run, EGRESS, sg.id)
    assert sorted((r.inputs.get("referencedSecurityGroupId") or r.inputs["prefixListId"],
                   r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"])
                  for r in egress) == sorted([
        (endpoint_sg["net-sqs-endpoint-sg"], "tcp", 443, 443),
        (s3_prefix_list, "tcp", 443, 443)])
    assert not _rules_for(run, INGRESS, sg.id)
    # The SQS endpoint admits the function's group - and no other endpoint does.
    admitted = {r.inputs["securityGroupId"] for r in run.of_type(INGRESS)
                if r.inputs.get("referencedSecurityGroupId") == sg.id}
    assert admitted == {endpoint_sg["net-sqs-endpoint-sg"]}


def test_cluster_group_reaches_sts_lambda_and_sqs_endpoints(run):
    cluster_sg = _cluster_sg_id(run)
    endpoint_sg = {r.name: r.id for r in run.of_type(SG)}
    wanted = {endpoint_sg[f"net-{e}-endpoint-sg"] for e in ("sts", "lambda", "sqs")}

    admitted = {r.inputs["securityGroupId"] for r in run.of_type(INGRESS)
                if r.inputs.get("referencedSecurityGroupId") == cluster_sg
                and r.inputs["fromPort"] == r.inputs["toPort"] == 443}
    assert admitted == wanted
    egress_443 = {r.inputs["referencedSecurityGroupId"] for r in _rules_for(run, EGRESS, cluster_sg)
                  if r.inputs["fromPort"] == 443}
    assert egress_443 == wanted


def test_function_group_outlives_lingering_lambda_enis_on_destroy(run):
    assert run.named("consumer-sg").options["delete_timeout"] == "45m"


# --- Alarms and outputs -----------------------------------------------------------------------


def test_alarms_watch_dead_letters_errors_and_offset_lag(run_pulumi):
    run = run_pulumi(_stack(offset_lag_alarm_threshold=250,
                            alarm_actions=["arn:aws:sns:us-east-1:123456789012:ops"]))
    queue = _child(run, QUEUE, "consumer-dlq").outputs["name"]
    function = _child(run, FUNCTION, "consumer-function").outputs["name"]
    alarms = {r.name: r.inputs for r in _consumer_children(run) if r.type == ALARM}

    def metric(alarm: dict[str, Any]) -> tuple:
        return (alarm["namespace"], alarm["metricName"], alarm["dimensions"],
                alarm["comparisonOperator"], alarm["threshold"])

    assert metric(alarms["consumer-dead-letters"]) == (
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue},
        "GreaterThanThreshold", 0)
    assert metric(alarms["consumer-errors"]) == (
        "AWS/Lambda", "Errors", {"FunctionName": function}, "GreaterThanThreshold", 0)
    assert metric(alarms["consumer-offset-lag"]) == (
        "AWS/Lambda", "OffsetLag", {"FunctionName": function}, "GreaterThanThreshold", 250)
    for alarm in alarms.values():
        assert alarm["alarmActions"] == ["arn:aws:sns:us-east-1:123456789012:ops"]
        assert alarm["okActions"] == ["arn:aws:sns:us-east-1:123456789012:ops"]


def test_outputs_name_the_function_mapping_queue_alarms_and_group(run):
    component = run.one(CONSUMER, "consumer")
    outputs = run.component_outputs[component.urn]
    function = _child(run, FUNCTION, "consumer-function").outputs
    mapping = _child(run, MAPPING, "consumer-mapping").outputs
    queue = _child(run, QUEUE, "consumer-dlq").outputs

    assert outputs["function_name"] == function["name"]
    assert outputs["function_arn"] == function["arn"]
    assert outputs["mapping_uuid"] == mapping["uuid"]
    assert outputs["mapping_arn"] == mapping["arn"]
    assert outputs["dead_letter_queue_url"] == queue["url"]
    assert outputs["dead_letter_queue_arn"] == queue["arn"]
    assert outputs["dead_letter_queue_name"] == queue["name"]
    assert outputs["dead_letter_bucket_name"] == _child(
        run, BUCKET, "consumer-dlq-bucket").outputs["bucket"]
    assert outputs["security_group_id"] == _child(run, SG, "consumer-sg").id
    assert outputs["alarm_names"] == {
        key: _child(run, ALARM, f"consumer-{suffix}").outputs["name"]
        for key, suffix in (("dead_letters", "dead-letters"), ("errors", "errors"),
                            ("offset_lag", "offset-lag"))}
    assert run.outputs["consumer_function_name"] == function["name"]


def test_every_consumer_resource_is_a_child_of_the_component(run):
    component = run.one(CONSUMER, "consumer")
    # Its own resources, and the endpoint grants it holds (named by the network: "net-consumer-").
    mine = [r for r in run.resources if r.name.startswith(("consumer", "net-consumer-"))]
    assert {r.parent for r in mine if r.urn != component.urn} == {component.urn}
    assert len(_consumer_children(run)) == len(mine) - 1


def test_two_consumers_live_in_one_stack_without_collisions(run_pulumi):
    run = run_pulumi(_stack(names=("orders", "billing")))
    keys = [(r.type, r.name) for r in run.resources]
    assert len(keys) == len(set(keys))
    for name in ("orders", "billing"):
        children = _consumer_children(run, name)
        assert children and all(r.name.startswith((f"{name}-", f"net-{name}-"))
                                for r in children)
        assert len([r for r in children if r.type == MAPPING]) == 1
    functions = [f for f in run.of_type(FUNCTION) if not f.name.startswith("topic-")]
    assert len({f.outputs["name"] for f in functions}) == 2
    # Physical names are left to auto-naming.
    for type_ in (FUNCTION, QUEUE, ROLE, LOG_GROUP, ALARM, KEY, BUCKET):
        for resource in run.of_type(type_):
            assert "name" not in resource.inputs, (type_, resource.name)


def test_the_function_writes_oversized_letters_under_the_prefix_its_role_allows():
    from dead_letter_format import S3_PREFIX

    # The component grants s3:PutObject on "<bucket>/<prefix>*" only; the handler must use it.
    assert S3_PREFIX == DEAD_LETTER_KEY_PREFIX
