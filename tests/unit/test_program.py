"""The whole program (`__main__.py`) under Pulumi mocks with real stack configs."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.kafka import parse_cluster_arn
from components.project_sources import project_sources
from testing.pulumi_harness import (
    PROJECT_ROOT,
    AwsMocks,
    PulumiRun,
    run_main,
    stack_config,
)
from testing.run_cache import cached_main

MSK = "aws:msk/serverlessCluster:ServerlessCluster"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
STACK_OUTPUTS = {"vpcId", "privateSubnetIds", "publicSubnetIds", "apiUrl", "repositoryUrl",
                 "imageDigest", "imageRef", "ecsClusterName", "ecsServiceName", "alarmTopicArn",
                 "dashboardName"}
KAFKA_OUTPUTS = {"kafkaClusterArn", "kafkaBootstrapBrokers", "consumerFunctionName",
                 "consumerLogGroup", "deadLetterQueueUrl", "deadLetterBucket",
                 "eventSourceMappingUuid", "consumerAlarmNames"}
LAMBDA = "aws:lambda/function:Function"
ESM = "aws:lambda/eventSourceMapping:EventSourceMapping"


@pytest.fixture(scope="module")
def dev() -> PulumiRun:
    return cached_main(stack_config("dev"))


@pytest.fixture(scope="module")
def without_kafka() -> PulumiRun:
    return cached_main({**stack_config("dev"), "kafkaEnabled": False})


def _interface_services(run: PulumiRun) -> set[str]:
    return {e.inputs["serviceName"].rsplit(".", 1)[-1] if "ecr." not in e.inputs["serviceName"]
            else e.inputs["serviceName"].split("amazonaws.", 1)[-1].split(".", 1)[-1]
            for e in run.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"}


def test_the_dev_stack_file_is_a_cheap_stack():
    config = stack_config("dev")
    assert config["aws:region"] == "us-east-1"
    assert config["event-pipeline:availabilityZoneCount"] == 2
    assert config["event-pipeline:apiDesiredCount"] == 1


def test_dev_stack_exports(dev):
    outputs = dev.outputs
    assert set(outputs) == STACK_OUTPUTS | KAFKA_OUTPUTS
    vpc = dev.one("aws:ec2/vpc:Vpc")
    assert outputs["vpcId"] == vpc.id and outputs["vpcId"].startswith("vpc-")
    assert len(outputs["privateSubnetIds"]) == len(outputs["publicSubnetIds"]) == 2
    assert all(s.startswith("subnet-") for s in outputs["privateSubnetIds"])
    assert outputs["kafkaClusterArn"] == dev.one(MSK).outputs["arn"]
    assert parse_cluster_arn(outputs["kafkaClusterArn"]).region == "us-east-1"
    assert outputs["kafkaBootstrapBrokers"] == dev.one(MSK).outputs["bootstrapBrokersSaslIam"]
    alb = dev.one("aws:lb/loadBalancer:LoadBalancer")
    assert outputs["apiUrl"] == f"http://{alb.outputs['dnsName']}"
    assert outputs["imageDigest"].startswith("sha256:")
    assert outputs["imageRef"] == f"{outputs['repositoryUrl']}@{outputs['imageDigest']}"
    assert outputs["alarmTopicArn"] == dev.one("aws:sns/topic:Topic").outputs["arn"]
    assert outputs["deadLetterBucket"] == dev.one("aws:s3/bucket:Bucket", "consumer-dlq-bucket"
                                                  ).outputs["bucket"]
    assert outputs["ecsClusterName"] == dev.one("aws:ecs/cluster:Cluster").outputs["name"]
    assert outputs["ecsServiceName"] == dev.one("aws:ecs/service:Service").outputs["name"]


def test_dev_stack_wires_the_consumer_to_the_cluster_and_topic(dev):
    function = dev.one(LAMBDA, "consumer-function")
    mapping = dev.one(ESM)
    assert dev.outputs["consumerFunctionName"] == function.outputs["name"]
    assert mapping.inputs["eventSourceArn"] == dev.one(MSK).outputs["arn"]
    assert mapping.inputs["topics"] == ["events"]
    assert mapping.inputs["startingPosition"] == "TRIM_HORIZON"
    assert dev.outputs["eventSourceMappingUuid"] == mapping.outputs["uuid"]
    # Each function's package is built once, from what its service's pyproject.toml declares
    # (its handler's package, the first-party libs it depends on, never the replay tool) and its
    # pinned requirements, for the function's Python. tests/unit/test_project_sources.py checks
    # that the declaration covers every import of the code.
    builds = {str(args[2]): (args, kwargs) for args, kwargs in dev.lambda_builds}
    assert set(builds) == {"build/consumer", "build/topic_admin"}
    for service, resource in (("consumer", function), ("topic_admin",
                                                        dev.one(LAMBDA, "topic-function"))):
        args, kwargs = builds[f"build/{service}"]
        declared = project_sources(PROJECT_ROOT / "services" / service, [PROJECT_ROOT / "libs"])
        assert [PROJECT_ROOT / p for p in args[0]] == list(declared.import_packages)
        assert PROJECT_ROOT / args[1] == declared.requirements
        assert resource.inputs["runtime"] == f"python{kwargs['python_version']}"
        assert "event_replay" not in declared.module_names


def test_without_kafka_there_is_no_consumer(without_kafka):
    assert without_kafka.of_type(LAMBDA) == [] and without_kafka.of_type(ESM) == []
    assert without_kafka.lambda_builds == []


def test_dev_stack_has_kafka_and_its_endpoints(dev):
    assert len(dev.of_type(MSK)) == 1
    assert _interface_services(dev) == {"ecr.api", "ecr.dkr", "logs", "sts", "lambda", "sqs"}


def test_without_kafka_there_is_no_msk_and_no_kafka_only_endpoint(without_kafka):
    assert without_kafka.of_type(MSK) == []
    assert _interface_services(without_kafka) == {"ecr.api", "ecr.dkr", "logs"}
    assert set(without_kafka.outputs) == STACK_OUTPUTS
    assert not any(r.name.endswith("producer-policy") for r in without_kafka.of_type(ROLE_POLICY))
    task = without_kafka.one("aws:ecs/taskDefinition:TaskDefinition")
    env = {e["name"]: e["value"]
           for e in json.loads(task.inputs["containerDefinitions"])[0]["environment"]}
    assert env["KAFKA_DISABLED"] == "true" and env["KAFKA_BOOTSTRAP_SERVERS"] == ""


def test_the_producer_policy_follows_the_apis_idempotence_flag(dev):
    # The API's idempotence is KAFKA_ENABLE_IDEMPOTENCE in its task, off when unset.
    task = dev.one("aws:ecs/taskDefinition:TaskDefinition")
    env = {e["name"]: e["value"]
           for e in json.loads(task.inputs["containerDefinitions"])[0]["environment"]}
    idempotent = env.get("KAFKA_ENABLE_IDEMPOTENCE", "false") == "true"
    policy = json.loads(dev.one(ROLE_POLICY, "api-producer-policy").inputs["policy"])
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert ("kafka-cluster:WriteDataIdempotently" in actions) is idempotent
    assert "kafka-cluster:CreateTopic" not in actions  # the topic is provisioned at deploy time


def test_every_resource_hangs_under_a_component(dev):
    stack = next(r.parent for r in dev.resources if r.type.startswith("event-pipeline:"))
    for resource in dev.resources:
        if resource.custom:
            assert resource.parent != stack, f"{resource.name} is not inside a component"


def test_only_the_load_balancer_admits_the_internet(dev):
    public = [r for r in dev.of_type(INGRESS) if r.inputs.get("cidrIpv4") or r.inputs.get(
        "cidrIpv6")]
    alb_sg = dev.one("aws:lb/loadBalancer:LoadBalancer").inputs["securityGroups"]
    assert public and all(r.inputs["securityGroupId"] in alb_sg for r in public)
    assert {r.inputs["fromPort"] for r in public} <= {80, 443}


BAD_STACK_CONFIG = [
    ({"ipamPoolId": "pool-1"}, "event-pipeline:ipamPoolId = 'pool-1'"),
    ({"ipamPoolCidr": "10.11.0.0/20"}, "event-pipeline:ipamPoolCidr is gone"),
    # Limits AWS enforces that the settings accepted before (issue 13, point 6).
    ({"consumerTimeoutSeconds": 900}, "event-pipeline:consumerTimeoutSeconds = 900"),
    ({"subnetNetmaskLength": 28}, "event-pipeline:subnetNetmaskLength = 28"),
    ({"allowPlainHttp": None}, "event-pipeline:allowPlainHttp must be set"),
    ({"vpcNetmaskLength": 27}, "event-pipeline:subnetNetmaskLength = 24"),
    ({"consumerStartingPosition": "EARLIEST"},
     "event-pipeline:consumerStartingPosition = 'EARLIEST'"),
    ({"apiDesiredCount": -1}, "event-pipeline:apiDesiredCount = -1"),
    ({"topicName": "events!"}, "event-pipeline:topicName = 'events!'"),
    ({"availabilityZoneCount": 7}, "event-pipeline:availabilityZoneCount = 7"),
    ({"aws:region": None}, "aws:region is not set"),
]


@pytest.mark.parametrize(("override", "expected"), BAD_STACK_CONFIG,
                         ids=[next(iter(c[0])) for c in BAD_STACK_CONFIG])
def test_bad_config_stops_before_any_resource_with_one_clear_error(override, expected):
    mocks = AwsMocks()
    with pytest.raises(pulumi.RunError) as error:
        run_main({**stack_config("dev"), **override}, mocks=mocks)
    assert expected in str(error.value)
    assert str(error.value).startswith("Invalid stack configuration (1 problem(s))")
    assert mocks.resources == []
    assert mocks.calls == []


@pytest.mark.parametrize("stack", sorted(p.name.split(".")[1] for p in PROJECT_ROOT.glob(
    "Pulumi.*.yaml")))
def test_every_stack_file_in_the_repo_is_valid_and_deploys(stack):
    run = cached_main(stack_config(stack))
    assert run.outputs["apiUrl"].startswith(("http://", "https://"))
    azs = int(stack_config(stack).get("event-pipeline:availabilityZoneCount", 2))
    assert len(run.outputs["privateSubnetIds"]) == azs
