"""A program that built its VPC and its Kafka cluster elsewhere uses one component alone, with
plain values (components/existing.py); and the components' default sources are the package's own
files wherever the program runs (components/package_files.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components import (
    ApiService,
    ApiServiceArgs,
    Consumer,
    ConsumerArgs,
    ExistingKafkaCluster,
    ExistingTopic,
    ExistingVpc,
    KafkaTopic,
    KafkaTopicArgs,
)
from components.package_files import API_DOCKERFILE, source_root
from testing.pulumi_harness import PulumiRun

VPC = "vpc-0123456789abcdef0"
PRIVATE = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
PUBLIC = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]
ENDPOINT_SGS = {service: f"sg-0{service.replace('.', '')}endpoint"
                for service in ("ecr.api", "ecr.dkr", "logs", "sts", "lambda", "sqs")}
PREFIX_LIST = "pl-63a5400a"
CLUSTER_ARN = ("arn:aws:kafka:us-east-1:123456789012:cluster/theirs/"
               "0f1e2d3c-1234-5678-9abc-def012345678-s1")
BROKERS = "boot-theirs.c1.kafka-serverless.us-east-1.amazonaws.com:9098"
CLUSTER_SG = "sg-0c1u2s3t4e5r6abcd"
ALARMS = ["arn:aws:sns:us-east-1:123456789012:alarms"]
CREATED_ELSEWHERE = {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/vpcEndpoint:VpcEndpoint",
                     "aws:msk/serverlessCluster:ServerlessCluster"}


def _vpc(**overrides: Any) -> ExistingVpc:
    return ExistingVpc(**{"vpc_id": VPC, "private_subnet_ids": PRIVATE,
                          "public_subnet_ids": PUBLIC, "endpoint_security_group_ids": ENDPOINT_SGS,
                          "s3_prefix_list_id": PREFIX_LIST, **overrides})


def _topic() -> ExistingTopic:
    return ExistingTopic(cluster=ExistingKafkaCluster(
        arn=CLUSTER_ARN, bootstrap_brokers_sasl_iam=BROKERS, security_group_id=CLUSTER_SG),
        topic_name="orders")


def _code() -> pulumi.Archive:
    return pulumi.AssetArchive({"handler.py": pulumi.StringAsset("")})


@pytest.fixture
def consumer_alone(run_pulumi) -> PulumiRun:
    def program() -> None:
        Consumer("consumer", ConsumerArgs(network=_vpc(), topic=_topic(), alarm_actions=ALARMS,
                                          code=_code()))

    return run_pulumi(program)


def test_a_consumer_alone_creates_no_vpc_and_no_cluster(consumer_alone):
    assert consumer_alone.types() & CREATED_ELSEWHERE == set()
    assert consumer_alone.one("event-pipeline:consumer:Consumer")


def test_the_consumer_runs_in_the_given_subnets_and_reads_the_given_cluster(consumer_alone):
    function = consumer_alone.one("aws:lambda/function:Function")
    assert function.inputs["vpcConfig"]["subnetIds"] == PRIVATE
    assert consumer_alone.one("aws:ec2/securityGroup:SecurityGroup").inputs["vpcId"] == VPC
    mapping = consumer_alone.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping.inputs["eventSourceArn"] == CLUSTER_ARN
    assert mapping.inputs["topics"] == ["orders"]


def test_the_given_endpoints_and_cluster_group_admit_the_consumer(consumer_alone):
    ingress = consumer_alone.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    egress = consumer_alone.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    # The function reaches sqs (and S3 by the prefix list); the mapping's pollers, which run
    # with the cluster's group, reach sts, lambda and sqs.
    assert {r.inputs["securityGroupId"] for r in ingress} == {
        ENDPOINT_SGS["sqs"], ENDPOINT_SGS["sts"], ENDPOINT_SGS["lambda"]}
    assert CLUSTER_SG in {r.inputs["referencedSecurityGroupId"] for r in ingress}
    assert PREFIX_LIST in {r.inputs.get("prefixListId") for r in egress}
    parents = {r.parent for r in [*ingress, *egress]}
    assert parents == {consumer_alone.one("event-pipeline:consumer:Consumer").urn}


def test_an_api_alone_writes_the_given_topic_through_the_given_brokers(run_pulumi):
    def program() -> None:
        ApiService("api", ApiServiceArgs(network=_vpc(), topic=_topic(), alarm_actions=ALARMS,
                                         allow_plain_http=True))

    run = run_pulumi(program)
    assert run.types() & CREATED_ELSEWHERE == set()
    assert run.one("aws:lb/loadBalancer:LoadBalancer").inputs["subnets"] == PUBLIC
    task = run.one("aws:ecs/taskDefinition:TaskDefinition")
    container = json.loads(task.inputs["containerDefinitions"])[0]
    environment = {v["name"]: v["value"] for v in container["environment"]}
    assert environment["KAFKA_BOOTSTRAP_SERVERS"] == BROKERS
    assert environment["KAFKA_TOPIC"] == "orders"
    ingress = run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert CLUSTER_SG in {r.inputs["securityGroupId"] for r in ingress}


def test_a_topic_alone_provisions_in_the_given_cluster(run_pulumi):
    def program() -> None:
        KafkaTopic("topic", KafkaTopicArgs(cluster=_topic().cluster, network=_vpc(),
                                           code=_code(), topic_name="orders"))

    run = run_pulumi(program)
    function = run.one("aws:lambda/function:Function")
    assert function.inputs["environment"]["variables"]["KAFKA_BOOTSTRAP_SERVERS"] == BROKERS
    assert function.inputs["vpcConfig"]["subnetIds"] == PRIVATE


def test_a_missing_endpoint_is_named(run_pulumi):
    def program() -> None:
        Consumer("consumer", ConsumerArgs(
            network=_vpc(endpoint_security_group_ids={"sts": "sg-1", "lambda": "sg-2"}),
            topic=_topic(), alarm_actions=ALARMS, code=_code()))

    with pytest.raises(Exception, match=r"endpoint_security_group_ids\['sqs'\]"):
        run_pulumi(program)


@pytest.mark.parametrize("args, message", [
    (lambda: ConsumerArgs(network=VPC, topic=_topic(), alarm_actions=ALARMS),  # type: ignore[arg-type]
     "ConsumerArgs.network must be a Network or an ExistingVpc, not str"),
    (lambda: ApiServiceArgs(network=_vpc(), topic="orders", alarm_actions=ALARMS,  # type: ignore[arg-type]
                            allow_plain_http=True),
     "ApiServiceArgs.topic must be a KafkaTopic or an ExistingTopic, not str"),
    (lambda: KafkaTopicArgs(cluster=CLUSTER_ARN, network=_vpc()),  # type: ignore[arg-type]
     "KafkaTopicArgs.cluster must be a KafkaCluster or an ExistingKafkaCluster, not str"),
])
def test_a_wrong_kind_of_input_gets_one_clear_sentence(args, message):
    with pytest.raises(ValueError, match=message):
        args()


def test_default_sources_are_the_packages_own_wherever_the_program_runs(run_pulumi, tmp_path):
    """Run from an unrelated directory: the image context, the Dockerfile and the function's
    sources still resolve to the package's files (relative to the program's directory)."""
    from components import lambda_package

    builds: list[tuple] = []

    def record(*args: Any, **kwargs: Any) -> pulumi.Archive:
        builds.append(args)
        return _code()

    def program() -> None:
        ApiService("api", ApiServiceArgs(network=_vpc(), alarm_actions=ALARMS,
                                         allow_plain_http=True))
        Consumer("consumer", ConsumerArgs(network=_vpc(), topic=_topic(), alarm_actions=ALARMS))

    real, lambda_package.build_lambda_archive = lambda_package.build_lambda_archive, record
    cwd = Path.cwd()
    try:
        os.chdir(tmp_path)
        run = run_pulumi(program)
    finally:
        os.chdir(cwd)
        lambda_package.build_lambda_archive = real
    image = run.one("docker-build:index:Image")
    assert (tmp_path / image.inputs["context"]["location"]).resolve() == source_root()
    assert (tmp_path / image.inputs["dockerfile"]["location"]).resolve() == \
        source_root() / API_DOCKERFILE
    (packages, requirements, build_dir), = builds
    service = source_root() / "services/consumer"
    assert (tmp_path / packages[0]).resolve() == service / "event_consumer"
    assert (tmp_path / requirements).resolve() == service / "requirements.txt"
    assert build_dir == Path("build/consumer")
