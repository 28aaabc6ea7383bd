"""MSK Serverless under Pulumi mocks, and the pure least-privilege policy builders."""

from __future__ import annotations

import json

import pytest

from components.kafka import (
    KafkaCluster,
    KafkaClusterArgs,
    consumer_policy_document,
    consumer_policy_json,
    group_arn,
    parse_cluster_arn,
    producer_policy_document,
    producer_policy_json,
    topic_arn,
)
from testing.pulumi_harness import PulumiRun, resolve, run_program

CLUSTER_ARN = ("arn:aws:kafka:eu-west-1:111122223333:cluster/events-prod/"
               "0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5-s2")
MSK = "aws:msk/serverlessCluster:ServerlessCluster"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]
CLIENT_SG = "sg-0client0000000001"


def _actions(document: dict) -> list[str]:
    return [a for s in document["Statement"] for a in s["Action"]]


def _resources_of(document: dict, action: str) -> list[str]:
    found = [s["Resource"] for s in document["Statement"] if action in s["Action"]]
    assert len(found) == 1, action
    return found[0] if isinstance(found[0], list) else [found[0]]


# --- ARNs ----------------------------------------------------------------------------------

def test_topic_and_group_arns_follow_the_documented_form():
    assert topic_arn(CLUSTER_ARN, "events") == (
        "arn:aws:kafka:eu-west-1:111122223333:topic/events-prod/"
        "0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5-s2/events")
    assert group_arn(CLUSTER_ARN, "event-consumer") == (
        "arn:aws:kafka:eu-west-1:111122223333:group/events-prod/"
        "0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5-s2/event-consumer")


def test_other_partitions_are_kept():
    china = CLUSTER_ARN.replace("arn:aws:", "arn:aws-cn:").replace("eu-west-1", "cn-north-1")
    assert topic_arn(china, "t").startswith("arn:aws-cn:kafka:cn-north-1:111122223333:topic/")


@pytest.mark.parametrize("bad", [
    "arn:aws:kafka:eu-west-1:111122223333:topic/events-prod/uuid/t",
    "arn:aws:kafka:eu-west-1:111122223333:cluster/events-prod",
    "not-an-arn",
])
def test_a_malformed_cluster_arn_is_rejected(bad):
    with pytest.raises(ValueError, match="not an MSK cluster ARN"):
        topic_arn(bad, "events")


# --- policies --------------------------------------------------------------------------------

@pytest.mark.parametrize("idempotent", [True, False])
@pytest.mark.parametrize("create_topic", [True, False])
def test_producer_policy_is_exact(idempotent, create_topic):
    document = producer_policy_document(
        CLUSTER_ARN, "events", idempotent=idempotent, create_topic=create_topic)
    expected = {"kafka-cluster:Connect", "kafka-cluster:DescribeCluster",
                "kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"}
    if idempotent:
        expected.add("kafka-cluster:WriteDataIdempotently")
    if create_topic:
        expected.add("kafka-cluster:CreateTopic")
    assert sorted(_actions(document)) == sorted(expected)
    for action in _actions(document):
        scope = "Topic" if action in {"kafka-cluster:DescribeTopic", "kafka-cluster:WriteData",
                                      "kafka-cluster:CreateTopic"} else "Cluster"
        want = topic_arn(CLUSTER_ARN, "events") if scope == "Topic" else CLUSTER_ARN
        assert _resources_of(document, action) == [want]
    assert not any("ReadData" in a or "Group" in a for a in _actions(document))


def test_consumer_policy_matches_awss_list_with_exact_kafka_resources():
    document = consumer_policy_document(CLUSTER_ARN, "events", "event-consumer")
    assert _resources_of(document, "kafka:DescribeClusterV2") == [CLUSTER_ARN]
    assert _resources_of(document, "kafka:GetBootstrapBrokers") == [CLUSTER_ARN]
    for action in ("kafka-cluster:Connect", "kafka-cluster:DescribeCluster"):
        assert _resources_of(document, action) == [CLUSTER_ARN]
    for action in ("kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"):
        assert _resources_of(document, action) == [topic_arn(CLUSTER_ARN, "events")]
    for action in ("kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"):
        assert _resources_of(document, action) == [group_arn(CLUSTER_ARN, "event-consumer")]
    for action in ("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                   "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
                   "ec2:DescribeSubnets", "ec2:DescribeVpcs"):
        assert _resources_of(document, action) == ["*"]
    assert not any("Write" in a for a in _actions(document))


@pytest.mark.parametrize("document", [
    producer_policy_document(CLUSTER_ARN, "events", idempotent=True, create_topic=True),
    consumer_policy_document(CLUSTER_ARN, "events", "event-consumer"),
], ids=["producer", "consumer"])
def test_no_wildcard_actions_and_wildcard_resources_only_for_ec2(document):
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in statement["Action"])
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [
            statement["Resource"]]
        if "*" in "".join(resources):
            # Only the ENI statement AWS requires to be unscoped.
            assert resources == ["*"] and all(a.startswith("ec2:") for a in statement["Action"])
        else:
            assert all(r.startswith("arn:aws:kafka:eu-west-1:111122223333:") for r in resources)


def test_output_wrappers_serialise_the_same_documents():
    produced = resolve(producer_policy_json(CLUSTER_ARN, "events", idempotent=True,
                                            create_topic=False))
    assert json.loads(produced) == producer_policy_document(
        CLUSTER_ARN, "events", idempotent=True, create_topic=False)
    consumed = resolve(consumer_policy_json(CLUSTER_ARN, "events", "g"))
    assert json.loads(consumed) == consumer_policy_document(CLUSTER_ARN, "events", "g")


# --- the component -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run() -> PulumiRun:
    def program():
        kafka = KafkaCluster("kafka", KafkaClusterArgs(vpc_id="vpc-0123", subnet_ids=SUBNETS))
        kafka.allow_client("api", CLIENT_SG)

    return run_program(program)


def test_the_cluster_allows_iam_authentication_only(run):
    cluster = run.one(MSK)
    assert cluster.inputs["clientAuthentication"] == {"sasl": {"iam": {"enabled": True}}}
    (vpc_config,) = cluster.inputs["vpcConfigs"]
    assert vpc_config["subnetIds"] == SUBNETS
    assert vpc_config["securityGroupIds"] == [run.one(SG).id]


def test_the_cluster_group_admits_9098_from_itself_and_registered_clients_only(run):
    sg = run.one(SG)
    assert not sg.inputs.get("ingress") and not sg.inputs.get("egress")
    ingress = [r for r in run.of_type(INGRESS) if r.inputs["securityGroupId"] == sg.id]
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in ingress) == sorted(
        [sg.id, CLIENT_SG])
    egress = run.of_type(EGRESS)
    assert {(r.inputs["securityGroupId"], r.inputs["referencedSecurityGroupId"]) for r in egress
            } == {(sg.id, sg.id), (CLIENT_SG, sg.id)}
    for rule in (*ingress, *egress):
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
            "tcp", 9098, 9098)
        assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs


def test_outputs_and_parenting(run):
    component = run.one("event-pipeline:kafka:KafkaCluster")
    outputs = run.component_outputs[component.urn]
    cluster = run.one(MSK)
    parsed = parse_cluster_arn(cluster.outputs["arn"])
    assert outputs["arn"] == cluster.outputs["arn"]
    assert outputs["bootstrap_brokers_sasl_iam"].endswith(":9098")
    assert outputs["security_group_id"] == run.one(SG).id
    assert (outputs["cluster_name"], outputs["cluster_uuid"]) == (parsed.name, parsed.uuid)
    assert outputs["cluster_uuid"] == cluster.outputs["clusterUuid"]
    assert all(r.parent == component.urn for r in run.resources if r.custom)
    assert "clusterName" not in cluster.inputs  # auto-named
