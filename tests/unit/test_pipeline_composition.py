"""The components composed as the program composes them (the lead wires __main__.py the same
way): cross-component rules that no single component test can see."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.alarm_topic import AlarmTopic, AlarmTopicArgs
from components.api_service import ApiService, ApiServiceArgs
from components.consumer import Consumer, ConsumerArgs
from components.dashboard import PipelineDashboard, PipelineDashboardArgs
from components.kafka import KafkaCluster, KafkaClusterArgs
from components.network import FARGATE_ENDPOINTS, KAFKA_ENDPOINTS, Network, NetworkArgs
from components.topic import KafkaTopic, KafkaTopicArgs
from testing.pulumi_harness import BOOTSTRAPPED_POOL_ID, PulumiRun, run_program

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
INVOCATION = "aws:lambda/invocation:Invocation"


def _code(module: str) -> pulumi.Archive:
    return pulumi.AssetArchive({f"{module}/handler.py": pulumi.StringAsset("")})


def compose(*, kafka_enabled: bool = True, **api: Any) -> None:
    network = Network("network", NetworkArgs(
        ipam_pool_id=BOOTSTRAPPED_POOL_ID,
        interface_endpoints=FARGATE_ENDPOINTS + (KAFKA_ENDPOINTS if kafka_enabled else ())))
    alarms = AlarmTopic("alarms", AlarmTopicArgs(alarm_email="oncall@example.com"))
    topic = consumer = None
    if kafka_enabled:
        kafka = KafkaCluster("kafka", KafkaClusterArgs(
            vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids))
        topic = KafkaTopic("topic", KafkaTopicArgs(
            cluster=kafka, network=network, code=_code("topic_admin"), partitions=3))
    service = ApiService("api", ApiServiceArgs(
        network=network, topic=topic, alarm_actions=[alarms.arn],
        **{"allow_plain_http": True, **api}))
    if topic is not None:
        consumer = Consumer("consumer", ConsumerArgs(
            code=_code("event_consumer"), network=network, topic=topic,
            alarm_actions=[alarms.arn]))
    PipelineDashboard("pipeline", PipelineDashboardArgs(api=service, consumer=consumer))


@pytest.fixture(scope="module")
def run() -> PulumiRun:
    return run_program(compose)


def test_every_alarm_notifies_the_encrypted_alarm_topic(run):
    topic = run.one("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == run.one("aws:kms/key:Key", "alarms-key").outputs[
        "arn"]
    alarms = run.of_type(ALARM)
    assert {a.name for a in alarms} == {
        "api-alb-5xx", "api-target-5xx", "api-unhealthy-targets",
        "consumer-dead-letters", "consumer-errors", "consumer-offset-lag"}
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]], alarm.name


def test_the_api_and_the_mapping_start_only_after_the_topic_is_provisioned(run):
    invocation = run.one(INVOCATION).urn
    assert invocation in run.one("aws:ecs/service:Service").dependencies
    assert invocation in run.one("aws:lambda/eventSourceMapping:EventSourceMapping").dependencies


def test_the_dashboard_shows_ingest_5xx_lag_dead_letters_and_errors(run):
    body = json.loads(run.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    metrics = {tuple(m[:2]): m[3] for w in body["widgets"] for m in w["properties"]["metrics"]}
    alb = run.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
    function = run.one("aws:lambda/function:Function", "consumer-function").outputs["name"]
    queue = run.one("aws:sqs/queue:Queue").outputs["name"]
    assert metrics[("AWS/ApplicationELB", "RequestCount")] == alb
    assert metrics[("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count")] == alb
    assert metrics[("AWS/Lambda", "OffsetLag")] == function
    assert metrics[("AWS/SQS", "ApproximateNumberOfMessagesVisible")] == queue
    assert metrics[("AWS/Lambda", "Errors")] == function


def test_without_kafka_there_is_no_topic_no_consumer_and_a_smaller_dashboard():
    run = run_program(lambda: compose(kafka_enabled=False))
    assert not run.of_type(INVOCATION)
    assert not run.of_type("aws:lambda/function:Function")
    body = json.loads(run.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    assert len(body["widgets"]) == 2


def test_every_resource_hangs_under_a_component(run):
    components = {r.urn for r in run.resources if not r.custom}
    assert all(r.parent in components for r in run.resources if r.custom)


def test_only_the_load_balancer_admits_the_internet(run):
    public = [r for r in run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
              if "cidrIpv4" in r.inputs or "cidrIpv6" in r.inputs]
    alb_sg = run.one("aws:ec2/securityGroup:SecurityGroup", "api-alb-sg").id
    assert {r.inputs["securityGroupId"] for r in public} == {alb_sg}


def test_no_policy_grants_an_action_wildcard_and_resource_wildcards_are_the_documented_ones(run):
    allowed_star_actions = {
        "ecr:GetAuthorizationToken",  # no resource-level permissions
        "ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface",  # Lambda VPC ENIs
        "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
        "ec2:UnassignPrivateIpAddresses", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs",
    }
    for policy in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [
                statement["Action"]]
            assert not any(a == "*" or a.endswith(":*") for a in actions), policy.name
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [
                statement["Resource"]]
            if "*" in resources and statement["Effect"] == "Allow":
                assert set(actions) <= allowed_star_actions, (policy.name, statement)
