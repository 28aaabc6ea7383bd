"""The Fargate API service under Pulumi mocks (no image is built: the inputs are asserted)."""

from __future__ import annotations

import contextlib
import importlib.util
import json
from typing import Any

import pulumi
import pytest

from components.api_service import (
    ALB_IDLE_TIMEOUT_S,
    HEALTH_CHECK_COMMAND,
    HTTP_KEEPALIVE_TIMEOUT_S,
    REQUESTS_PER_VCPU_PER_MINUTE,
    TLS_POLICY,
    ApiService,
    ApiServiceArgs,
    requests_per_target,
)
from components.existing import ExistingVpc
from components.kafka import KafkaCluster, KafkaClusterArgs
from components.kafka_access import producer_kafka_policy
from components.network import FARGATE_ENDPOINTS, KAFKA_ENDPOINTS, Network, NetworkArgs
from components.topic import KafkaTopic, KafkaTopicArgs
from testing.pulumi_harness import (
    ACCOUNT_ID,
    BOOTSTRAPPED_POOL_ID,
    PROJECT_ROOT,
    REGION,
    PulumiRun,
    run_program,
)

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
ALARM_TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms"
# For args checks that register nothing: a VPC given by plain ids.
PLAIN_VPC = ExistingVpc(vpc_id="vpc-0123456789abcdef0", private_subnet_ids=[])
ECR = "aws:ecr/repository:Repository"
IMAGE = "docker-build:index:Image"
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
            ipam_pool_id=BOOTSTRAPPED_POOL_ID,
            interface_endpoints=FARGATE_ENDPOINTS + (KAFKA_ENDPOINTS if kafka else ())))
        topic = None
        if kafka:
            cluster = KafkaCluster("kafka", KafkaClusterArgs(
                vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids))
            topic = KafkaTopic("topic", KafkaTopicArgs(
                cluster=cluster, network=network,
                code=pulumi.AssetArchive({"topic_admin/handler.py": pulumi.StringAsset("")})))
        kwargs: dict[str, Any] = {"allow_plain_http": True, "alarm_actions": [ALARM_TOPIC]}
        if {"certificate_arn", "domain_name"} & set(overrides):
            kwargs.pop("allow_plain_http")
        ApiService("api", ApiServiceArgs(network=network, topic=topic,
                                         **{**kwargs, **overrides}))

    with contextlib.chdir(PROJECT_ROOT):  # the build context is relative, as under `pulumi up`
        return run_program(program)


@pytest.fixture(scope="module")
def run() -> PulumiRun:
    return deploy(min_count=2, max_count=7, desired_count=3, on_demand_base=1,
                  on_demand_weight=1, spot_weight=4, ecr_keep_images=6, cpu=512, memory=2048,
                  base_image="registry.example/python:3.12")


@pytest.fixture(scope="module")
def run_default() -> PulumiRun:
    return deploy()


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


def test_the_image_is_built_for_arm64_and_pushed_by_digest_without_a_tag(run):
    image, repo = run.one(IMAGE), run.one(ECR)
    assert image.inputs["platforms"] == ["linux/arm64"]
    assert image.inputs["context"] == {"location": "."}
    assert image.inputs["dockerfile"] == {"location": "services/api/Dockerfile"}
    assert image.inputs["buildArgs"] == {"BASE_IMAGE": "registry.example/python:3.12"}
    url = repo.outputs["repositoryUrl"]
    # No tag anywhere: an IMMUTABLE repository can refuse a tag, never a push by digest.
    assert not image.inputs.get("tags") and image.inputs["push"] is False
    (export,) = image.inputs["exports"]
    registry = export["registry"]
    assert registry["names"] == [url] and ":" not in url.rsplit("/", 1)[-1]
    assert (registry["push"], registry["pushByDigest"]) == (True, True)
    (login,) = image.inputs["registries"]
    assert (login["address"], login["username"], login["password"]) == (
        url, "AWS", "mock-ecr-password")
    assert any(token == "aws:ecr/getAuthorizationToken:getAuthorizationToken"
               for token, _ in run.calls)


def test_a_pushed_image_is_never_deleted_by_pulumi(run_default):
    # A running or rolled-back task definition may still name it; the lifecycle policy
    # expires old images instead.
    assert run_default.named("api-image").options["retain_on_delete"] is True


def test_without_a_base_image_the_dockerfile_default_is_kept(run_tls):
    assert not run_tls.one(IMAGE).inputs.get("buildArgs")


# --- task definition ---------------------------------------------------------------------------

def test_the_task_runs_the_pushed_digest_on_arm64(run):
    task = run.one(TASK)
    url, digest = run.one(ECR).outputs["repositoryUrl"], run.one(IMAGE).outputs["digest"]
    assert container(run)["image"] == f"{url}@{digest}" and digest.startswith("sha256:")
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
    log_group = run.one("aws:cloudwatch/logGroup:LogGroup", "api-logs")
    assert log["logDriver"] == "awslogs"
    assert log["options"]["mode"] == "non-blocking"
    assert log["options"]["awslogs-group"] == log_group.outputs["name"]
    assert log["options"]["awslogs-region"] == REGION
    assert log_group.inputs["retentionInDays"] == 7


def test_container_environment_points_at_the_cluster(run):
    env = {e["name"]: e["value"] for e in container(run)["environment"]}
    msk = run.one("aws:msk/serverlessCluster:ServerlessCluster")
    # The API only waits for its topic (no partitions: the topic is provisioned at deploy
    # time); the program decides idempotence; the keep-alive outlives the ALB's idle timeout.
    assert env == {"AWS_REGION": REGION, "KAFKA_TOPIC": "events", "KAFKA_DISABLED": "false",
                   "KAFKA_BOOTSTRAP_SERVERS": msk.outputs["bootstrapBrokersSaslIam"],
                   "KAFKA_ENABLE_IDEMPOTENCE": "false",
                   "HTTP_KEEPALIVE_TIMEOUT_S": str(HTTP_KEEPALIVE_TIMEOUT_S),
                   "WEB_CONCURRENCY": "1"}  # the fixture's 512 CPU units: half a vCPU


@pytest.mark.parametrize(("cpu", "workers"), [(256, 1), (1024, 1), (2048, 2), (4096, 4)])
def test_one_server_process_per_vcpu(cpu, workers):
    from components.api_service import web_concurrency

    assert web_concurrency(cpu) == workers


def test_the_keep_alive_outlives_the_albs_idle_timeout_from_one_place(run):
    alb = run.one("aws:lb/loadBalancer:LoadBalancer")
    env = {e["name"]: e["value"] for e in container(run)["environment"]}
    assert alb.inputs["idleTimeout"] == ALB_IDLE_TIMEOUT_S
    assert int(env["HTTP_KEEPALIVE_TIMEOUT_S"]) > alb.inputs["idleTimeout"]


def test_an_idempotent_producer_is_told_and_allowed():
    run = deploy(producer_idempotent=True)
    env = {e["name"]: e["value"] for e in container(run)["environment"]}
    assert env["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
    policy = json.loads(run.one(ROLE_POLICY, "api-producer-policy").inputs["policy"])
    assert "kafka-cluster:WriteDataIdempotently" in {
        a for statement in policy["Statement"] for a in statement["Action"]}


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


def test_an_up_never_resets_the_task_count_autoscaling_owns(run_default):
    assert run_default.named("api-service").options["ignore_changes"] == ["desiredCount"]


def test_the_service_starts_only_once_its_topic_exists(run):
    assert run.one("aws:lambda/invocation:Invocation").urn in run.one(SERVICE).dependencies


def test_the_service_runs_in_private_subnets_without_public_ip(run):
    network = run.component_outputs[run.one("event-pipeline:network:Network").urn]
    config = run.one(SERVICE).inputs["networkConfiguration"]
    assert config["assignPublicIp"] is False
    assert config["subnets"] == network["private_subnet_ids"]
    assert config["securityGroups"] == [sg_named(run, "api-task-sg").id]


def test_defaults_are_all_spot():
    args = ApiServiceArgs(network=PLAIN_VPC, alarm_actions=[ALARM_TOPIC], allow_plain_http=True)
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
    log_arn = run.one("aws:cloudwatch/logGroup:LogGroup", "api-logs").outputs["arn"]
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
    # cpu=512: the request goal scales with the task (half a vCPU), not a fixed 500 a minute
    # that held every stack at its maximum task count under any real load.
    requests = metrics["ALBRequestCountPerTarget"].inputs[
        "targetTrackingScalingPolicyConfiguration"]
    assert requests["targetValue"] == REQUESTS_PER_VCPU_PER_MINUTE / 2 == 24_000


def test_an_explicit_request_goal_wins_over_the_one_scaled_to_the_task():
    args = ApiServiceArgs(network=PLAIN_VPC, alarm_actions=[ALARM_TOPIC], allow_plain_http=True,
                          cpu=1024, requests_per_target=900.0)
    assert requests_per_target(args) == 900.0
    args = ApiServiceArgs(network=PLAIN_VPC, alarm_actions=[ALARM_TOPIC], allow_plain_http=True,
                          cpu=256)
    assert requests_per_target(args) == 12_000


def test_outputs_parenting_and_auto_naming(run):
    component = run.one("event-pipeline:api:ApiService")
    outputs = run.component_outputs[component.urn]
    assert outputs["repository_url"] == run.one(ECR).outputs["repositoryUrl"]
    assert outputs["image_digest"] == run.one(IMAGE).outputs["digest"]
    assert outputs["image_ref"] == f"{outputs['repository_url']}@{outputs['image_digest']}"
    alb, tg = run.one("aws:lb/loadBalancer:LoadBalancer"), run.one("aws:lb/targetGroup:TargetGroup")
    assert outputs["load_balancer_arn_suffix"] == alb.outputs["arnSuffix"]
    assert outputs["target_group_arn_suffix"] == tg.outputs["arnSuffix"]
    assert set(outputs["alarm_names"]) == {"alb_5xx", "target_5xx", "unhealthy_targets"}
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


# --- HTTPS by default --------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "message"), [
    ({}, "serves HTTPS by default: set certificate_arn, or domain_name + hosted_zone_id"),
    ({"domain_name": "api.example.com"}, "domain_name and hosted_zone_id go together"),
    ({"hosted_zone_id": "Z123"}, "domain_name and hosted_zone_id go together"),
    ({"certificate_arn": CERT, "allow_plain_http": True}, "allow_plain_http=True contradicts"),
    ({"allow_plain_http": True, "alarm_actions": []}, "alarm_actions is empty"),
    ({"allow_plain_http": True, "access_log_retention_days": 0}, "access_log_retention_days"),
])
def test_a_stack_serves_https_unless_it_says_otherwise(overrides, message):
    kwargs = {"network": PLAIN_VPC, "alarm_actions": [ALARM_TOPIC], **overrides}
    with pytest.raises(ValueError, match="invalid ApiServiceArgs") as refused:
        ApiServiceArgs(**kwargs)
    assert message in str(refused.value)


@pytest.fixture(scope="module")
def run_domain() -> PulumiRun:
    return deploy(domain_name="api.example.com", hosted_zone_id="Z0123456789ABC")


def test_a_domain_gets_a_dns_validated_certificate_and_an_alias(run_domain):
    certificate = run_domain.one("aws:acm/certificate:Certificate")
    assert certificate.inputs["domainName"] == "api.example.com"
    assert certificate.inputs["validationMethod"] == "DNS"
    (option,) = certificate.outputs["domainValidationOptions"]
    records = {r.name: r.inputs for r in run_domain.of_type("aws:route53/record:Record")}
    validation_record = records["api-certificate-validation-record"]
    assert validation_record["zoneId"] == "Z0123456789ABC"
    assert (validation_record["name"], validation_record["type"], validation_record["records"]) == (
        option["resourceRecordName"], "CNAME", [option["resourceRecordValue"]])
    validation = run_domain.one("aws:acm/certificateValidation:CertificateValidation")
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    # The listener uses the certificate only once ACM has issued it.
    https = next(r for r in run_domain.of_type(LISTENER) if r.inputs["port"] == 443)
    assert https.inputs["certificateArn"] == certificate.outputs["arn"]
    assert validation.urn in https.dependencies
    alb = run_domain.one("aws:lb/loadBalancer:LoadBalancer").outputs
    alias = records["api-alias"]
    assert (alias["name"], alias["type"], alias["zoneId"]) == (
        "api.example.com", "A", "Z0123456789ABC")
    assert alias["aliases"] == [{"name": alb["dnsName"], "zoneId": alb["zoneId"],
                                 "evaluateTargetHealth": True}]
    outputs = run_domain.component_outputs[run_domain.one("event-pipeline:api:ApiService").urn]
    assert outputs["url"] == "https://api.example.com"


def test_a_given_certificate_issues_none(run_tls):
    assert not run_tls.of_type("aws:acm/certificate:Certificate")
    assert not run_tls.of_type("aws:route53/record:Record")


# --- access logs -------------------------------------------------------------------------------

def test_access_logs_are_off_unless_asked(run):
    assert "accessLogs" not in run.one("aws:lb/loadBalancer:LoadBalancer").inputs
    assert not run.of_type("aws:s3/bucket:Bucket")


@pytest.fixture(scope="module")
def run_logs() -> PulumiRun:
    return deploy(certificate_arn=CERT, access_logs_enabled=True, access_log_retention_days=30)


def test_access_logs_go_to_an_sse_s3_private_expiring_bucket(run_logs):
    bucket = run_logs.one("aws:s3/bucket:Bucket")
    alb = run_logs.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["accessLogs"] == {"bucket": bucket.outputs["bucket"], "prefix": "alb",
                                        "enabled": True}
    encryption = run_logs.one("aws:s3/bucketServerSideEncryptionConfiguration:"
                              "BucketServerSideEncryptionConfiguration").inputs
    # SSE-S3: the only encryption ALB log delivery supports.
    assert encryption["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "AES256"}
    block = run_logs.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                  "restrictPublicBuckets"))
    (rule,) = run_logs.one("aws:s3/bucketLifecycleConfiguration:"
                           "BucketLifecycleConfiguration").inputs["rules"]
    assert rule["status"] == "Enabled" and rule["expiration"] == {"days": 30}
    # ELB checks it may write when logging is enabled: the policy comes first.
    policy = run_logs.one("aws:s3/bucketPolicy:BucketPolicy")
    assert policy.urn in alb.dependencies
    assert bucket.inputs["forceDestroy"] is True  # no deletion protection: logs go too


def test_only_elb_writes_this_accounts_logs_and_only_over_tls(run_logs):
    bucket_arn = run_logs.one("aws:s3/bucket:Bucket").outputs["arn"]
    allow, deny = json.loads(run_logs.one("aws:s3/bucketPolicy:BucketPolicy").inputs[
        "policy"])["Statement"]
    # us-east-1 predates August 2022: its Elastic Load Balancing account writes the logs.
    assert allow["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}
    assert (allow["Action"], allow["Resource"]) == (
        "s3:PutObject", f"{bucket_arn}/alb/AWSLogs/{ACCOUNT_ID}/*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [bucket_arn, f"{bucket_arn}/*"]


def test_newer_regions_deliver_logs_through_the_service_principal():
    from components.alb_access_logs import access_log_bucket_policy

    document = access_log_bucket_policy("arn:aws:s3:::logs", ACCOUNT_ID, "aws", "ap-southeast-5")
    assert document["Statement"][0]["Principal"] == {
        "Service": "logdelivery.elasticloadbalancing.amazonaws.com"}


# --- alarms ------------------------------------------------------------------------------------

def test_alarms_watch_5xx_and_unhealthy_targets_and_notify(run):
    alarms = {r.name: r.inputs for r in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    alb = run.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
    tg = run.one("aws:lb/targetGroup:TargetGroup").outputs["arnSuffix"]
    assert {name: (a["namespace"], a["metricName"], a["dimensions"])
            for name, a in alarms.items()} == {
        "api-alb-5xx": ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", {"LoadBalancer": alb}),
        "api-target-5xx": ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count",
                           {"LoadBalancer": alb}),
        "api-unhealthy-targets": ("AWS/ApplicationELB", "UnHealthyHostCount",
                                  {"LoadBalancer": alb, "TargetGroup": tg}),
    }
    for alarm in alarms.values():
        assert alarm["alarmActions"] == alarm["okActions"] == [ALARM_TOPIC]
