"""The deploy-time topic provisioner (components/topic.py) under Pulumi mocks."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.kafka import KafkaCluster, KafkaClusterArgs
from components.kafka_access import topic_admin_kafka_policy
from components.lambda_policies import FUNCTION_ENI_ACTIONS
from components.network import FARGATE_ENDPOINTS, KAFKA_ENDPOINTS, Network, NetworkArgs
from components.topic import (
    HANDLER,
    KafkaTopic,
    KafkaTopicArgs,
)
from testing.pulumi_harness import (
    ACCOUNT_ID,
    BOOTSTRAPPED_POOL_ID,
    PulumiRun,
    run_program,
)

TOPIC = "event-pipeline:kafka:KafkaTopic"
FUNCTION = "aws:lambda/function:Function"
INVOCATION = "aws:lambda/invocation:Invocation"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
MSK = "aws:msk/serverlessCluster:ServerlessCluster"


def deploy(**overrides: Any) -> PulumiRun:
    def program() -> None:
        network = Network("net", NetworkArgs(
            ipam_pool_id=BOOTSTRAPPED_POOL_ID,
            interface_endpoints=FARGATE_ENDPOINTS + KAFKA_ENDPOINTS))
        cluster = KafkaCluster("kafka", KafkaClusterArgs(
            vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids))
        kwargs: dict[str, Any] = {
            "cluster": cluster, "network": network, "topic_name": "orders", "partitions": 6,
            "code": pulumi.AssetArchive({"topic_admin/handler.py": pulumi.StringAsset("")}),
        }
        KafkaTopic("topic", KafkaTopicArgs(**{**kwargs, **overrides}))

    return run_program(program)


@pytest.fixture(scope="module")
def run() -> PulumiRun:
    return deploy()


def _policy(run: PulumiRun, name: str) -> dict:
    return json.loads(run.one(ROLE_POLICY, name).inputs["policy"])


def test_the_invocation_asks_for_the_topic_and_reruns_when_the_code_changes(run):
    invocation, function = run.one(INVOCATION), run.one(FUNCTION)
    assert json.loads(invocation.inputs["input"]) == {"topic": "orders", "partitions": 6}
    assert invocation.inputs["functionName"] == function.outputs["name"]
    assert invocation.inputs["triggers"] == {"code_sha256": function.outputs["codeSha256"],
                                             "cluster_arn": run.one(MSK).outputs["arn"]}
    # CREATE_ONLY: a changed input replaces the invocation (runs again); delete runs nothing.
    assert invocation.inputs.get("lifecycleScope") in (None, "CREATE_ONLY")
    assert function.urn in invocation.dependencies


def test_more_partitions_means_a_new_input_so_a_new_run():
    grown = deploy(partitions=9)
    assert json.loads(grown.one(INVOCATION).inputs["input"])["partitions"] == 9


def test_the_function_is_the_provisioner_in_the_private_subnets(run):
    function = run.one(FUNCTION).inputs
    assert function["handler"] == HANDLER == "topic_admin.handler.lambda_handler"
    assert (function["runtime"], function["architectures"]) == ("python3.13", ["arm64"])
    network = run.one("event-pipeline:network:Network")
    assert function["vpcConfig"]["subnetIds"] == run.component_outputs[network.urn][
        "private_subnet_ids"]
    assert function["vpcConfig"]["securityGroupIds"] == [run.one(SG, "topic-sg").id]
    assert function["environment"]["variables"] == {
        "KAFKA_BOOTSTRAP_SERVERS": run.one(MSK).outputs["bootstrapBrokersSaslIam"],
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}
    assert function["loggingConfig"]["logFormat"] == "JSON"


def test_the_role_holds_exactly_the_topic_admin_policy_and_runtime_basics(run):
    cluster_arn = run.one(MSK).outputs["arn"]
    assert _policy(run, "topic-kafka") == topic_admin_kafka_policy(cluster_arn, "orders")
    runtime = _policy(run, "topic-runtime")["Statement"]
    assert [s["Sid"] for s in runtime] == ["FunctionVpcNetworkInterfaces", "OwnLogGroupOnly"]
    log_group = run.one("aws:cloudwatch/logGroup:LogGroup", "topic-logs")
    assert runtime[1]["Resource"] == f"{log_group.outputs['arn']}:*"
    deny = _policy(run, "topic-deny-eni-to-code")["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Action"] == sorted(FUNCTION_ENI_ACTIONS)
    assert deny["Condition"] == {"ArnEquals": {
        "lambda:SourceFunctionArn": run.one(FUNCTION).outputs["arn"]}}
    trust = json.loads(run.one("aws:iam/role:Role", "topic-role").inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_its_group_reaches_the_cluster_and_nothing_else(run):
    own, cluster = run.one(SG, "topic-sg"), run.one(SG, "kafka-sg")
    egress = [r.inputs for r in run.of_type(EGRESS) if r.inputs["securityGroupId"] == own.id]
    assert [(e["referencedSecurityGroupId"], e["fromPort"], e["toPort"]) for e in egress] == [
        (cluster.id, 9098, 9098)]
    assert any(r.inputs["securityGroupId"] == cluster.id
               and r.inputs.get("referencedSecurityGroupId") == own.id
               for r in run.of_type(INGRESS))
    assert not [r for r in run.of_type(INGRESS) if r.inputs["securityGroupId"] == own.id]


def test_the_first_run_waits_for_its_grants_and_route(run):
    function = run.one(FUNCTION)
    component = run.one(TOPIC)
    needed = {r.urn for r in run.children_of(component.urn)
              if r.type in (ROLE_POLICY, EGRESS, INGRESS) and "deny" not in r.name}
    assert len(needed) == 4  # Kafka policy, runtime policy, the two client rules
    assert needed <= set(function.dependencies)


def test_everything_is_a_named_child_and_outputs_are_registered(run):
    component = run.one(TOPIC)
    children = run.children_of(component.urn)
    assert all(r.name.startswith(("topic-", "kafka-topic-")) for r in children)
    outputs = run.component_outputs[component.urn]
    assert (outputs["topic_name"], outputs["partitions"]) == ("orders", 6)
    assert outputs["result"] == run.one(INVOCATION).outputs["result"]
    assert outputs["function_name"] == run.one(FUNCTION).outputs["name"]


def test_zero_partitions_is_refused():
    with pytest.raises(ValueError, match="partitions 0 is below 1"):
        KafkaTopicArgs(cluster=None, network=None, code=None, partitions=0)  # type: ignore[arg-type]
