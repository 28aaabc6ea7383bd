"""The Fargate API service under Pulumi mocks (no image is built: the inputs are asserted)."""

from __future__ import annotations

import contextlib
import importlib.util
import json
from typing import Any

import pytest

from components.api_service import (
    HEALTH_CHECK_COMMAND,
    TLS_POLICY,
    ApiService,
    ApiServiceArgs,
)
from components.docker_context import content_tag
from components.kafka import KafkaCluster, KafkaClusterArgs
from components.kafka_access import producer_kafka_policy
from components.network import FARGATE_ENDPOINTS, KAFKA_ENDPOINTS, Network, NetworkArgs
from tests.fixtures.pulumi_mocks import ACCOUNT_ID, PROJECT_ROOT, REGION, PulumiRun, run_program

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
ECR = "aws:ecr/repository:Repository"
IMAGE = "docker:index/image:Image"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LISTENER = "aws:lb/listener:Listener"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:appautoscaling/policy:Policy"


def deploy(*, kafka: bool = True, **overrides: Any) -> PulumiRun:
    def program():
        network = Network("net", NetworkArgs(
            interface_endpoints=FARGATE_ENDPOINTS + (KAFKA_ENDPOINTS if kafka else ())))
        cluster = None
        if kafka:
            cluster = KafkaCluster("kafka", KafkaClusterArgs(
                vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids))
        ApiService("api", ApiServiceArgs(network=network, kafka=cluster, **overrides))

    with contextlib.chdir(PROJECT_ROOT):  # the build context is relative, as under `pulumi up`
        return run_program(program)


@pytest.fixture(scope="module")
def run() -> PulumiRun:
    return deploy(min_count=2, max_count=7, desired_count=3, on_demand_base=1,
                  on_demand_weight=1, spot_weight=4, ecr_keep_images=6, cpu=512, memory=2048,
                  base_image="registry.example/python:3.12")


@pytest.fixture(scope="module")
def run_tls() -> PulumiRun:
    return deploy(certificate_arn=CERT, alb_deletion_protection=True, ecr_force_delete=False)


def container(run: PulumiRun) -> dict[str, Any]:
    (definition,) = json.loads(run.one(TASK).inputs["containerDefinitions"])
    return definition


def sg_named(run: PulumiRun, name: str):
    return run.one(SG, name)


# --- image and repository ----------------------------------------------------------------------

def test_repository_scans_is_immutable_encrypted_and_keeps_the_last_n(run, run_tls):
    repo = run.one(ECR)
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS"}]
    assert repo.inputs["forceDelete"] is True
    assert run_tls.one(ECR).inputs["forceDelete"] is False
    lifecycle = run.one("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert lifecycle.inputs["repository"] == repo.outputs["name"]
    (rule,) = json.loads(lifecycle.inputs["policy"])["rules"]
    assert rule["selection"]["countType"] == "imageCountMoreThan"
    assert rule["selection"]["countNumber"] == 6
    assert rule["action"] == {"type": "expire"}


def test_the_image_is_built_for_arm64_and_pushed_to_the_repository(run):
    image, repo = run.one(IMAGE), run.one(ECR)
    build = image.inputs["build"]
    assert build["platform"] == "linux/arm64"
    assert build["context"] == "."
    assert build["dockerfile"] == "services/api/Dockerfile"
    assert build["args"] == {"BASE_IMAGE": "registry.example/python:3.12"}
    url = repo.outputs["repositoryUrl"]
    tag = content_tag(PROJECT_ROOT, build["args"]["BASE_IMAGE"])
    assert image.inputs["imageName"] == f"{url}:{tag}"
    assert image.inputs["registry"]["server"] == url
    assert image.inputs["registry"]["username"] == "AWS"
    assert image.inputs["registry"]["password"] == "mock-ecr-password"
    assert any(token == "aws:ecr/getAuthorizationToken:getAuthorizationToken"
               for token, _ in run.calls)


def test_without_a_base_image_the_dockerfile_default_is_kept(run_tls):
    assert not run_tls.one(IMAGE).inputs["build"].get("args")


def test_the_tag_changes_with_the_build_context(tmp_path):
    (tmp_path / ".dockerignore").write_text("*\n!app/\n**/__pycache__\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "app.py").write_text("print(1)\n")
    first = content_tag(tmp_path)
    (tmp_path / "app" / "__pycache__").mkdir()
    (tmp_path / "app" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"noise")
    (tmp_path / "notes.txt").write_text("not in the context")
    assert content_tag(tmp_path) == first  # bytecode and excluded files are not content
    (tmp_path / "app" / "app.py").write_text("print(2)\n")
    assert content_tag(tmp_path) != first
    assert content_tag(tmp_path, "base:1") != content_tag(tmp_path, "base:2")


# --- task definition ---------------------------------------------------------------------------

def test_the_task_runs_the_pushed_digest_on_arm64(run):
    task = run.one(TASK)
    assert container(run)["image"] == run.one(IMAGE).outputs["repoDigest"]
    assert "@sha256:" in container(run)["image"]
    assert task.inputs["runtimePlatform"] == {"cpuArchitecture": "ARM64",
                                              "operatingSystemFamily": "LINUX"}
    assert task.inputs["requiresCompatibilities"] == ["FARGATE"]
    assert task.inputs["networkMode"] == "awsvpc"
    assert (task.inputs["cpu"], task.inputs["memory"]) == ("512", "2048")


def test_the_health_check_command_is_the_apis_module_and_the_dockerfiles():
    assert HEALTH_CHECK_COMMAND == ["CMD", "python", "-m", "event_api.healthcheck"]
    assert importlib.util.find_spec("event_api.healthcheck") is not None
    dockerfile = (PROJECT_ROOT / "services" / "api" / "Dockerfile").read_text()
    healthcheck = dockerfile.split("HEALTHCHECK", 1)[1].split("CMD", 1)[1].splitlines()[0]
    assert json.loads(healthcheck) == HEALTH_CHECK_COMMAND[1:]


def test_container_settings(run):
    spec = container(run)
    assert spec["healthCheck"]["command"] == ["CMD", "python", "-m", "event_api.healthcheck"]
    assert spec["portMappings"] == [{"containerPort": 8000, "protocol": "tcp"}]
    assert spec["readonlyRootFilesystem"] is True
    assert spec["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp",
                                    "readOnly": False}]
    assert {"name": "tmp"} in run.one(TASK).inputs["volumes"]
    assert 30 <= spec["stopTimeout"] <= 120
    log = spec["logConfiguration"]
    log_group = run.one("aws:cloudwatch/logGroup:LogGroup")
    assert log["logDriver"] == "awslogs"
    assert log["options"]["mode"] == "non-blocking"
    assert log["options"]["awslogs-group"] == log_group.outputs["name"]
    assert log["options"]["awslogs-region"] == REGION
    assert log_group.inputs["retentionInDays"] == 7


def test_container_environment_points_at_the_cluster(run):
    env = {e["name"]: e["value"] for e in container(run)["environment"]}
    msk = run.one("aws:msk/serverlessCluster:ServerlessCluster")
    assert env == {"AWS_REGION": REGION, "KAFKA_TOPIC": "events",
                   "KAFKA_TOPIC_PARTITIONS": "3", "KAFKA_DISABLED": "false",
                   "KAFKA_BOOTSTRAP_SERVERS": msk.outputs["bootstrapBrokersSaslIam"]}


def test_without_kafka_the_api_runs_disabled_and_has_no_producer_rights():
    run = deploy(kafka=False)
    env = {e["name"]: e["value"] for e in container(run)["environment"]}
    assert env["KAFKA_DISABLED"] == "true" and env["KAFKA_BOOTSTRAP_SERVERS"] == ""
    task_role = run.one(ROLE, "api-task-role")
    assert [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == task_role.id] == []


# --- cluster and service -----------------------------------------------------------------------

def test_the_cluster_has_insights_and_both_fargate_providers(run):
    cluster = run.one("aws:ecs/cluster:Cluster")
    assert {"name": "containerInsights", "value": "enabled"} in cluster.inputs["settings"]
    providers = run.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert providers.inputs["clusterName"] == cluster.outputs["name"]
    assert sorted(providers.inputs["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]


def test_the_service_uses_the_capacity_provider_strategy_not_a_launch_type(run):
    service = run.one(SERVICE)
    assert "launchType" not in service.inputs
    strategy = {s["capacityProvider"]: s for s in service.inputs["capacityProviderStrategies"]}
    assert strategy["FARGATE"]["base"] == 1 and strategy["FARGATE"]["weight"] == 1
    assert strategy["FARGATE_SPOT"]["weight"] == 4
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service.inputs["healthCheckGracePeriodSeconds"] > 0
    assert service.inputs["desiredCount"] == 3
    assert service.inputs["taskDefinition"] == run.one(TASK).outputs["arn"]


def test_the_service_runs_in_private_subnets_without_public_ip(run):
    network = run.component_outputs[run.one("event-pipeline:network:Network").urn]
    config = run.one(SERVICE).inputs["networkConfiguration"]
    assert config["assignPublicIp"] is False
    assert config["subnets"] == network["private_subnet_ids"]
    assert config["securityGroups"] == [sg_named(run, "api-task-sg").id]


def test_defaults_are_all_spot():
    args = ApiServiceArgs(network=None)  # type: ignore[arg-type]
    assert (args.on_demand_base, args.on_demand_weight, args.spot_weight) == (0, 0, 1)


# --- network exposure --------------------------------------------------------------------------

@pytest.mark.parametrize("fixture", ["run", "run_tls"])
def test_only_the_alb_group_admits_the_internet_on_80_and_443(fixture, request):
    run = request.getfixturevalue(fixture)
    alb_sg = sg_named(run, "api-alb-sg").id
    public = [r for r in run.of_type(INGRESS) if "cidrIpv4" in r.inputs or "cidrIpv6" in r.inputs]
    assert public and {r.inputs["securityGroupId"] for r in public} == {alb_sg}
    assert all(r.inputs["cidrIpv4"] == "0.0.0.0/0" for r in public)
    expected = {80, 443} if fixture == "run_tls" else {80}
    assert {(r.inputs["fromPort"], r.inputs["toPort"]) for r in public} == {
        (p, p) for p in expected}
    assert not any("cidrIpv4" in r.inputs for r in run.of_type(EGRESS)
                   if r.inputs["securityGroupId"] == alb_sg)


def test_tasks_admit_8000_from_the_alb_only_and_the_alb_talks_to_tasks_only(run):
    alb_sg, task_sg = sg_named(run, "api-alb-sg").id, sg_named(run, "api-task-sg").id
    task_ingress = [r for r in run.of_type(INGRESS) if r.inputs["securityGroupId"] == task_sg]
    assert [(r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"])
            for r in task_ingress] == [(alb_sg, 8000, 8000)]
    alb_egress = [r for r in run.of_type(EGRESS) if r.inputs["securityGroupId"] == alb_sg]
    assert [(r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"]) for r in alb_egress
            ] == [(task_sg, 8000)]


def test_the_task_group_is_a_client_of_its_endpoints_and_of_kafka(run):
    task_sg = sg_named(run, "api-task-sg").id
    endpoint_sgs = run.component_outputs[
        run.one("event-pipeline:network:Network").urn]["endpoint_security_group_ids"]
    admitted = {r.inputs["securityGroupId"] for r in run.of_type(INGRESS)
                if r.inputs.get("referencedSecurityGroupId") == task_sg}
    for endpoint in ("ecr.api", "ecr.dkr", "logs"):
        assert endpoint_sgs[endpoint] in admitted
    for endpoint in ("sts", "lambda", "sqs"):  # the API needs none of the Kafka-only ones
        assert endpoint_sgs[endpoint] not in admitted
    kafka_sg = run.component_outputs[
        run.one("event-pipeline:kafka:KafkaCluster").urn]["security_group_id"]
    assert kafka_sg in admitted
    egress = [r for r in run.of_type(EGRESS) if r.inputs["securityGroupId"] == task_sg]
    assert not any("cidrIpv4" in r.inputs for r in egress)
    assert {r.inputs["fromPort"] for r in egress} == {443, 9098}


# --- load balancer -----------------------------------------------------------------------------

def test_the_alb_is_public_hardened_and_health_checks_the_api(run, run_tls):
    alb = run.one("aws:lb/loadBalancer:LoadBalancer")
    network = run.component_outputs[run.one("event-pipeline:network:Network").urn]
    assert alb.inputs["internal"] is False
    assert alb.inputs["subnets"] == network["public_subnet_ids"]
    assert alb.inputs["dropInvalidHeaderFields"] is True
    assert alb.inputs["enableDeletionProtection"] is False
    assert run_tls.one("aws:lb/loadBalancer:LoadBalancer").inputs[
        "enableDeletionProtection"] is True
    tg = run.one("aws:lb/targetGroup:TargetGroup")
    assert (tg.inputs["targetType"], tg.inputs["port"], tg.inputs["protocol"]) == (
        "ip", 8000, "HTTP")
    assert tg.inputs["healthCheck"]["path"] == "/healthcheck"
    (binding,) = run.one(SERVICE).inputs["loadBalancers"]
    assert binding == {"targetGroupArn": tg.outputs["arn"], "containerName": "api",
                       "containerPort": 8000}


def test_without_a_certificate_http_forwards_and_nothing_redirects(run):
    (listener,) = run.of_type(LISTENER)
    assert (listener.inputs["port"], listener.inputs["protocol"]) == (80, "HTTP")
    (action,) = listener.inputs["defaultActions"]
    assert action["type"] == "forward"
    assert run.component_outputs[run.one("event-pipeline:api:ApiService").urn][
        "url"].startswith("http://")


def test_with_a_certificate_https_uses_tls13_and_http_redirects(run_tls):
    listeners = {r.inputs["port"]: r for r in run_tls.of_type(LISTENER)}
    assert set(listeners) == {80, 443}
    (redirect,) = listeners[80].inputs["defaultActions"]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"port": "443", "protocol": "HTTPS",
                                    "statusCode": "HTTP_301"}
    https = listeners[443].inputs
    assert (https["protocol"], https["sslPolicy"], https["certificateArn"]) == (
        "HTTPS", TLS_POLICY, CERT)
    assert "TLS13" in TLS_POLICY
    assert https["defaultActions"][0]["type"] == "forward"
    service_deps = run_tls.one(SERVICE).dependencies
    assert all(listener.urn in service_deps for listener in listeners.values())


# --- IAM ---------------------------------------------------------------------------------------

def test_the_task_role_holds_exactly_the_producer_policy(run):
    task_role = run.one(ROLE, "api-task-role")
    (policy,) = [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == task_role.id]
    cluster_arn = run.one("aws:msk/serverlessCluster:ServerlessCluster").outputs["arn"]
    # Exactly the producer's document: the topic is provisioned at deploy time, so no CreateTopic.
    assert json.loads(policy.inputs["policy"]) == producer_kafka_policy(
        cluster_arn, "events", idempotent=False)
    assert not run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert run.one(TASK).inputs["taskRoleArn"] == task_role.outputs["arn"]


def test_the_execution_role_pulls_from_its_repository_and_logs_to_its_group(run):
    role = run.one(ROLE, "api-execution-role")
    (policy,) = [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["EcrLogin"]["Action"] == ["ecr:GetAuthorizationToken"]
    assert statements["EcrLogin"]["Resource"] == "*"  # the only unscoped statement
    assert statements["EcrPull"]["Resource"] == run.one(ECR).outputs["arn"]
    log_arn = run.one("aws:cloudwatch/logGroup:LogGroup").outputs["arn"]
    assert statements["Logs"]["Resource"] == [log_arn, f"{log_arn}:log-stream:*"]
    for statement in statements.values():
        assert all("*" not in action for action in statement["Action"])
    assert run.one(TASK).inputs["executionRoleArn"] == role.outputs["arn"]


def test_trust_policies_pin_the_source_account_and_arn(run):
    for name in ("api-task-role", "api-execution-role"):
        (statement,) = json.loads(run.one(ROLE, name).inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
        assert statement["Condition"]["ArnLike"] == {
            "aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:*"}


# --- autoscaling and outputs -------------------------------------------------------------------

def test_autoscaling_bounds_come_from_the_args(run):
    target = run.one("aws:appautoscaling/target:Target")
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 7)
    cluster, service = run.one("aws:ecs/cluster:Cluster"), run.one(SERVICE)
    assert target.inputs["resourceId"] == (
        f"service/{cluster.outputs['name']}/{service.outputs['name']}")
    metrics = {p.inputs["targetTrackingScalingPolicyConfiguration"][
        "predefinedMetricSpecification"]["predefinedMetricType"]: p for p in run.of_type(POLICY)}
    assert set(metrics) == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
    label = metrics["ALBRequestCountPerTarget"].inputs["targetTrackingScalingPolicyConfiguration"][
        "predefinedMetricSpecification"]["resourceLabel"]
    alb = run.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
    tg = run.one("aws:lb/targetGroup:TargetGroup").outputs["arnSuffix"]
    assert label == f"{alb}/{tg}"
    assert all(p.inputs["policyType"] == "TargetTrackingScaling" for p in metrics.values())


def test_outputs_parenting_and_auto_naming(run):
    component = run.one("event-pipeline:api:ApiService")
    outputs = run.component_outputs[component.urn]
    assert outputs["repository_url"] == run.one(ECR).outputs["repositoryUrl"]
    assert outputs["image_digest"] == run.one(IMAGE).outputs["repoDigest"]
    assert outputs["cluster_name"] == run.one("aws:ecs/cluster:Cluster").outputs["name"]
    assert outputs["service_name"] == run.one(SERVICE).outputs["name"]
    assert outputs["url"] == "http://" + run.one(
        "aws:lb/loadBalancer:LoadBalancer").outputs["dnsName"]
    for resource in run.children_of(component.urn):
        # Own resources are named after the component; the endpoint and Kafka grants it holds
        # carry the granting component's prefix too ("net-api-...", "kafka-api-...").
        assert resource.custom and (resource.name.startswith("api-")
                                    or resource.name.startswith(("net-api-", "kafka-api-")))
    grants = [r for r in run.children_of(component.urn) if not r.name.startswith("api-")]
    assert {r.type for r in grants} == {INGRESS, EGRESS}
    assert all("name" not in r.inputs for r in run.children_of(component.urn))


def test_the_https_url_is_reported_with_a_certificate(run_tls):
    outputs = run_tls.component_outputs[run_tls.one("event-pipeline:api:ApiService").urn]
    assert outputs["url"].startswith("https://")
