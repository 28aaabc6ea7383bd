"""The README stays true to the code: the architecture diagram, the first commands, the deploy steps
(here and in docs/operating.md). Its size and layout table: test_readme_layout.py; the generated
tables in docs/: test_docs_generated.py."""

from __future__ import annotations

import re

import pytest

from testing.pulumi_harness import stack_config
from testing.run_cache import cached_main
from tests.fixtures.docs import ROOT, between, page, section

README = page("README.md")

# Every resource type the program creates is either drawn (as the diagram node named here) or
# deliberately left out as plumbing. A new type fails the test until it is classified, so the
# diagram cannot silently miss a kind of resource.
DRAWN = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "vpc",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "endpoints",  # interface ones; the gateway one is s3gw
    "aws:lb/loadBalancer:LoadBalancer": "alb",
    "aws:lb/listener:Listener": "alb",
    "aws:lb/targetGroup:TargetGroup": "alb",
    "aws:ecs/cluster:Cluster": "ecs",
    "aws:ecs/service:Service": "ecs",
    "aws:ecs/taskDefinition:TaskDefinition": "ecs",
    "aws:ecr/repository:Repository": "ecr",
    "docker-build:index:Image": "image",
    "aws:lambda/invocation:Invocation": "provision",
    "aws:s3/bucket:Bucket": "dlqbucket",
    "aws:sns/topic:Topic": "sns",
    "aws:cloudwatch/dashboard:Dashboard": "dashboard",
    "aws:appautoscaling/target:Target": "autoscaling",
    "aws:appautoscaling/policy:Policy": "autoscaling",
    "aws:msk/serverlessCluster:ServerlessCluster": "msk",
    "aws:lambda/eventSourceMapping:EventSourceMapping": "esm",
    "aws:lambda/function:Function": "lambda",
    "aws:sqs/queue:Queue": "dlq",
    "aws:kms/key:Key": "kms",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "alarms",
    "aws:cloudwatch/logGroup:LogGroup": "logs",
    "aws:iam/role:Role": "iam",
}
PLUMBING = {
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/route:Route", "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
    "aws:iam/rolePolicy:RolePolicy", "aws:lambda/permission:Permission",
    "aws:sqs/queuePolicy:QueuePolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:sns/topicPolicy:TopicPolicy", "aws:sns/topicSubscription:TopicSubscription",
    "aws:acm/certificate:Certificate", "aws:acm/certificateValidation:CertificateValidation",
    "aws:route53/record:Record",
}
# Components are drawn as subgraphs named after their type token.
COMPONENT_PREFIX = "event-pipeline:"


def _diagram():
    text = between(README, "architecture")
    subgraphs = set(re.findall(r"^\s*subgraph (\w+)", text, re.M))
    nodes = set(re.findall(r"(?:^|\s|>|-)(\w+)\s*(?:\[|\(\(|\[\()", text, re.M)) - subgraphs
    return subgraphs, nodes


@pytest.fixture(scope="module")
def program():
    return cached_main(stack_config("dev"))


def test_every_resource_type_is_drawn_or_deliberately_plumbing(program):
    created = {r.type for r in program.resources if not r.type.startswith(COMPONENT_PREFIX)}
    unclassified = created - DRAWN.keys() - PLUMBING
    assert not unclassified, f"draw these in the README diagram or list them as plumbing: " \
                             f"{sorted(unclassified)}"


def test_the_diagram_draws_exactly_what_the_program_creates(program):
    _, nodes = _diagram()
    created = {r.type for r in program.resources}
    expected = {DRAWN[t] for t in created if t in DRAWN}
    if any(r.type == "aws:ec2/vpcEndpoint:VpcEndpoint" and r.inputs.get("vpcEndpointType")
           == "Gateway" for r in program.resources):
        expected.add("s3gw")
    external = {"internet", "deploy", "pool"}  # the pool is bootstrap/ipam's
    assert nodes - external == expected, (
        f"drawn but not created: {sorted(nodes - external - expected)}; "
        f"created but not drawn: {sorted(expected - nodes)}")


def test_the_diagram_has_a_subgraph_per_component(program):
    subgraphs, _ = _diagram()
    components = {r.type.split(":")[1] for r in program.resources
                  if r.type.startswith(COMPONENT_PREFIX)}
    assert subgraphs == components


def test_readme_opens_with_the_two_commands_ci_runs():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    assert "./dev pipeline" in first_block and "./dev test" in first_block
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()


# The README's five steps and operating.md's full guide both bootstrap the IPAM before a stack.
@pytest.mark.parametrize("name", ["README.md", "operating.md"])
def test_the_deploy_guide_bootstraps_the_accounts_ipam_before_any_stack(name):
    text = page(name)
    deploy = section(text, "Deploy to AWS") if name == "README.md" else text
    first_up = re.search(r"^\s*pulumi up\b", deploy, re.M)
    assert first_up, f"{name}: no `pulumi up` of a stack"
    assert deploy.index("pulumi -C bootstrap/ipam up") < first_up.start()
    assert "ipamPoolId" in deploy and "stack output poolId" in deploy
    bootstrap = ROOT / "bootstrap" / "ipam"
    assert (bootstrap / "Pulumi.yaml").exists() and (bootstrap / "Pulumi.account.yaml").exists()
