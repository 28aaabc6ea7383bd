"""MSK Serverless under Pulumi mocks: IAM-only authentication, and client grants that belong to
the client."""

from __future__ import annotations

import pulumi
import pytest

from components.kafka import KafkaCluster, KafkaClusterArgs, parse_cluster_arn
from testing.pulumi_harness import PulumiRun, run_program

MSK = "aws:msk/serverlessCluster:ServerlessCluster"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]
CLIENT_SG = "sg-0client0000000001"


class Client(pulumi.ComponentResource):
    """Stands in for a calling component (the API service, the topic provisioner)."""

    def __init__(self, name: str, kafka: KafkaCluster) -> None:
        super().__init__("test:index:Client", name, None, None)
        kafka.allow_client(name, CLIENT_SG, parent=self)
        self.register_outputs({})


# --- the component -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run() -> PulumiRun:
    def program():
        kafka = KafkaCluster("kafka", KafkaClusterArgs(vpc_id="vpc-0123", subnet_ids=SUBNETS))
        Client("api", kafka)

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
    client = run.one("test:index:Client")
    grants = {r.urn for r in run.children_of(client.urn)}
    assert len(grants) == 2  # the client's ingress on the cluster and its egress to it
    assert all(r.parent == component.urn for r in run.resources
               if r.custom and r.urn not in grants)
    assert "clusterName" not in cluster.inputs  # auto-named


def test_client_grants_are_children_of_the_client_with_an_alias_to_the_cluster(options):
    def program():
        kafka = KafkaCluster("kafka", KafkaClusterArgs(vpc_id="vpc-0123", subnet_ids=SUBNETS))
        Client("api", kafka)

    run = run_program(program)
    client = run.one("test:index:Client")
    cluster = run.one("event-pipeline:kafka:KafkaCluster")
    rules = run.children_of(client.urn)
    assert {r.type for r in rules} == {INGRESS, EGRESS}
    for rule in rules:
        assert rule.name.startswith("kafka-api-client-")
        # Known under the cluster before grants moved to the caller: not replaced on update.
        assert options[rule.name]["alias_parents"] == [cluster.urn]
