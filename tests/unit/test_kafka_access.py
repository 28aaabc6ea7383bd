"""The Kafka IAM policies (components/kafka_access.py): exact actions on exact ARNs, no Pulumi."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from components.kafka_access import (
    consumer_kafka_policy,
    group_arn,
    parse_cluster_arn,
    producer_kafka_policy,
    topic_admin_kafka_policy,
    topic_arn,
)
from testing.pulumi_harness import PROJECT_ROOT

CLUSTER_ARN = ("arn:aws:kafka:eu-west-1:111122223333:cluster/events-prod/"
               "0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5-s2")
TOPIC_ARN = topic_arn(CLUSTER_ARN, "events")


def _actions(document: dict) -> list[str]:
    return [a for s in document["Statement"] for a in s["Action"]]


def _resources_of(document: dict, action: str) -> list[str]:
    found = [s["Resource"] for s in document["Statement"] if action in s["Action"]]
    assert len(found) == 1, action
    return found[0] if isinstance(found[0], list) else [found[0]]


def test_the_module_imports_without_pulumi():
    # The local broker renders these documents for its own cluster ARN, outside any program.
    code = ("import sys; sys.modules['pulumi'] = None; sys.modules['pulumi_aws'] = None\n"
            "import components.kafka_access as k\n"
            f"print(k.topic_arn({CLUSTER_ARN!r}, 't'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("/t")


def test_topic_and_group_arns_follow_the_documented_form():
    assert TOPIC_ARN == (
        "arn:aws:kafka:eu-west-1:111122223333:topic/events-prod/"
        "0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5-s2/events")
    assert group_arn(CLUSTER_ARN, "event-consumer") == (
        "arn:aws:kafka:eu-west-1:111122223333:group/events-prod/"
        "0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5-s2/event-consumer")
    assert parse_cluster_arn(CLUSTER_ARN).name == "events-prod"


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


@pytest.mark.parametrize("idempotent", [True, False])
def test_the_producer_writes_its_topic_and_never_creates_topics(idempotent):
    document = producer_kafka_policy(CLUSTER_ARN, "events", idempotent=idempotent)
    expected = {"kafka-cluster:Connect", "kafka-cluster:DescribeCluster",
                "kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"}
    if idempotent:
        expected.add("kafka-cluster:WriteDataIdempotently")
    assert sorted(_actions(document)) == sorted(expected)
    for action in ("kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"):
        assert _resources_of(document, action) == [TOPIC_ARN]
    for action in expected - {"kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"}:
        assert _resources_of(document, action) == [CLUSTER_ARN]
    assert "kafka-cluster:CreateTopic" not in _actions(document)


def test_the_consumer_policy_matches_awss_list_with_exact_kafka_resources():
    document = consumer_kafka_policy(CLUSTER_ARN, "events", "event-consumer")
    assert _resources_of(document, "kafka:DescribeClusterV2") == [CLUSTER_ARN]
    assert _resources_of(document, "kafka:GetBootstrapBrokers") == [CLUSTER_ARN]
    for action in ("kafka-cluster:Connect", "kafka-cluster:DescribeCluster"):
        assert _resources_of(document, action) == [CLUSTER_ARN]
    for action in ("kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"):
        assert _resources_of(document, action) == [TOPIC_ARN]
    for action in ("kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"):
        assert _resources_of(document, action) == [group_arn(CLUSTER_ARN, "event-consumer")]
    for action in ("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                   "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
                   "ec2:DescribeSubnets", "ec2:DescribeVpcs"):
        assert _resources_of(document, action) == ["*"]
    assert not any("Write" in a or "Create" in a for a in _actions(document) if "kafka" in a)


def test_the_topic_admin_may_create_describe_and_grow_its_topic_only():
    document = topic_admin_kafka_policy(CLUSTER_ARN, "events")
    assert sorted(_actions(document)) == sorted([
        "kafka-cluster:Connect", "kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic",
        "kafka-cluster:AlterTopic"])
    assert _resources_of(document, "kafka-cluster:Connect") == [CLUSTER_ARN]
    for action in ("kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic",
                   "kafka-cluster:AlterTopic"):
        assert _resources_of(document, action) == [TOPIC_ARN]
    # It can never delete data or touch records.
    assert not any(word in action for action in _actions(document)
                   for word in ("Delete", "ReadData", "WriteData"))


@pytest.mark.parametrize("document", [
    producer_kafka_policy(CLUSTER_ARN, "events", idempotent=True),
    consumer_kafka_policy(CLUSTER_ARN, "events", "event-consumer"),
    topic_admin_kafka_policy(CLUSTER_ARN, "events"),
], ids=["producer", "consumer", "topic-admin"])
def test_no_wildcard_actions_and_wildcard_resources_only_for_ec2(document):
    json.dumps(document)  # plain data, ready for Output.json_dumps
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
