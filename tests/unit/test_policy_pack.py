"""The policy pack (policy/): the same rules CI runs with `pulumi preview --policy-pack policy`,
run offline over every stack's mocked resources, and one test per rule showing it catches a
violation (and passes the compliant form)."""

from __future__ import annotations

import json
import re

import pulumi
import pulumi_aws as aws
import pytest

import settings.limits
from components.api_service import TLS_POLICY
from policy.rules import ALL_POLICIES, MODULES
from policy.rules import limits as pack_limits
from testing.policy_run import Violation, check
from testing.pulumi_harness import (
    PROJECT_ROOT,
    AwsAccount,
    run_program,
    run_project,
    stack_config,
)
from testing.run_cache import cached_main
from tests.fixtures.docs import page, section

BOOTSTRAP = PROJECT_ROOT / "bootstrap" / "ipam"
APP_STACKS = sorted(p.name.split(".")[1] for p in PROJECT_ROOT.glob("Pulumi.*.yaml"))
POLICY = {p.name: p for p in ALL_POLICIES}


@pytest.fixture(scope="module")
def stack_violations() -> dict[str, list[Violation]]:
    runs = {stack: cached_main(stack_config(stack), stack=stack) for stack in APP_STACKS}
    runs["bootstrap/ipam"] = run_project(BOOTSTRAP, stack_config("account", BOOTSTRAP),
                                         account=AwsAccount(), stack="account")
    return {stack: check(run) for stack, run in runs.items()}


def test_every_stack_passes_the_pack(stack_violations):
    assert stack_violations == {stack: [] for stack in stack_violations}


def test_the_component_tags_plain_http_the_way_the_pack_reads_it():
    from components.api_service import PLAIN_HTTP_TAG
    from policy.rules.common import PLAIN_HTTP_TAG as RULE_TAG

    assert PLAIN_HTTP_TAG == RULE_TAG


def test_every_rule_has_a_unique_name_and_an_aws_doc_reference():
    assert len(POLICY) == len(ALL_POLICIES)
    for policy in ALL_POLICIES:
        assert re.search(r"\((\w[\w ./-]*(guide|Reference|docs)\b.*)\)\.$", policy.description), \
            policy.name
    assert all(module.POLICIES for module in MODULES)


def test_the_pack_is_a_python_policy_pack_with_pinned_dependencies():
    pack = PROJECT_ROOT / "policy"
    assert "runtime:" in (pack / "PulumiPolicy.yaml").read_text()
    assert "pulumi-policy==" in (pack / "requirements.txt").read_text()
    assert "policies=ALL_POLICIES" in (pack / "__main__.py").read_text()


def test_the_pack_checks_the_limits_the_settings_enforce():
    assert pack_limits.MSK_MAPPED_FUNCTION_MAX_TIMEOUT_S == \
        settings.limits.MSK_MAPPED_FUNCTION_MAX_TIMEOUT_S
    assert pack_limits.ALB_MAX_SUBNET_PREFIX == settings.limits.ALB_MAX_SUBNET_PREFIX
    assert TLS_POLICY in pack_limits.TLS_POLICIES
    assert pack_limits.ACM_DOMAIN_NAME_MAX == settings.limits.ACM_DOMAIN_NAME_MAX
    assert pack_limits.MSK_SERVERLESS_MAX_PARTITIONS == \
        settings.limits.MSK_SERVERLESS_MAX_PARTITIONS


# --- one rule at a time ------------------------------------------------------------------------

def violations(policy: str, program, **kwargs) -> list[Violation]:
    return check(run_program(program, **kwargs), [POLICY[policy]])


def _vpc(cidr: str = "10.0.0.0/24") -> aws.ec2.Vpc:
    return aws.ec2.Vpc("vpc", cidr_block=cidr)


def _alb(subnets, *, tags=None, access_logs=None, groups=()) -> aws.lb.LoadBalancer:
    return aws.lb.LoadBalancer("alb", load_balancer_type="application", subnets=subnets,
                               security_groups=list(groups), tags=tags, access_logs=access_logs)


def _subnets(vpc, *cidrs: str) -> list[pulumi.Output[str]]:
    return [aws.ec2.Subnet(f"subnet-{i}", vpc_id=vpc.id, cidr_block=c).id
            for i, c in enumerate(cidrs)]


def test_one_ipam_per_account_only_the_bootstrap_creates_one():
    def program():
        aws.ec2.VpcIpam("ipam", operating_regions=[{"region_name": "us-east-1"}])

    found = violations("one-ipam-per-account", program, account=AwsAccount())
    assert [v.resource for v in found] == ["ipam"]
    assert violations("one-ipam-per-account", program, account=AwsAccount(),
                      project="event-pipeline-ipam") == []


def test_alb_subnets_must_be_at_least_27():
    def program(small: str):
        def run():
            vpc = _vpc()
            _alb(_subnets(vpc, "10.0.0.0/27", small))
        return run

    found = violations("alb-subnets-at-least-27", program("10.0.0.32/28"))
    assert len(found) == 1 and "10.0.0.32/28" in found[0].message
    assert violations("alb-subnets-at-least-27", program("10.0.0.32/27")) == []


def test_no_public_ips_on_subnets_or_tasks():
    def program():
        vpc = _vpc()
        aws.ec2.Subnet("open", vpc_id=vpc.id, cidr_block="10.0.0.0/26",
                       map_public_ip_on_launch=True)
        aws.ec2.Subnet("closed", vpc_id=vpc.id, cidr_block="10.0.0.64/26")
        aws.ecs.Service("svc", network_configuration={"subnets": ["subnet-1"],
                                                      "assign_public_ip": True})

    assert sorted(v.resource for v in violations("no-public-ips", program)) == ["open", "svc"]


def test_public_ingress_only_80_443_on_the_alb():
    def program():
        vpc = _vpc()
        alb_sg = aws.ec2.SecurityGroup("alb-sg", vpc_id=vpc.id)
        other = aws.ec2.SecurityGroup("task-sg", vpc_id=vpc.id)
        _alb(_subnets(vpc, "10.0.0.0/27", "10.0.0.32/27"), groups=[alb_sg.id])
        for name, group, port, cidr in (("https", alb_sg, 443, "0.0.0.0/0"),
                                        ("ssh", alb_sg, 22, "0.0.0.0/0"),
                                        ("private", other, 8000, "10.0.0.0/8")):
            aws.vpc.SecurityGroupIngressRule(name, security_group_id=group.id, cidr_ipv4=cidr,
                                             ip_protocol="tcp", from_port=port, to_port=port)

    found = violations("public-ingress-only-80-443-on-the-alb", program)
    assert sorted(v.resource for v in found) == ["private", "ssh"]


def _listeners(*, redirect: bool, https: bool, tags=None, tls=TLS_POLICY):
    def program():
        vpc = _vpc()
        lb = _alb(_subnets(vpc, "10.0.0.0/27", "10.0.0.32/27"), tags=tags)
        action = ({"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443",
                                                    "status_code": "HTTP_301"}}
                  if redirect else {"type": "forward", "target_group_arn": "arn:tg"})
        aws.lb.Listener("http", load_balancer_arn=lb.arn, port=80, protocol="HTTP",
                        default_actions=[action])
        if https:
            aws.lb.Listener("https", load_balancer_arn=lb.arn, port=443, protocol="HTTPS",
                            ssl_policy=tls, certificate_arn="arn:aws:acm:us-east-1:1:cert/x",
                            default_actions=[{"type": "forward", "target_group_arn": "arn:tg"}])
    return program


def test_https_unless_plain_http_is_allowed():
    rule = "https-unless-plain-http-allowed"
    plain = violations(rule, _listeners(redirect=False, https=False))
    assert sorted(v.resource for v in plain) == ["alb", "http"]
    assert violations(rule, _listeners(redirect=True, https=True)) == []
    assert violations(rule, _listeners(redirect=False, https=False,
                                       tags={"AllowPlainHttp": "true"})) == []


def test_https_listeners_use_a_tls13_policy():
    rule = "alb-tls13-policy"
    found = violations(rule, _listeners(redirect=True, https=True,
                                        tls="ELBSecurityPolicy-2016-08"))
    assert [v.resource for v in found] == ["https"]
    assert violations(rule, _listeners(redirect=True, https=True)) == []


def _access_logs(algorithm: str | None, lifecycle: bool):
    def program():
        vpc = _vpc()
        _alb(_subnets(vpc, "10.0.0.0/27", "10.0.0.32/27"),
             access_logs={"bucket": "logs-bucket", "enabled": True})
        if algorithm:
            aws.s3.BucketServerSideEncryptionConfiguration(
                "sse", bucket="logs-bucket",
                rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": algorithm}}])
        if lifecycle:
            aws.s3.BucketLifecycleConfiguration(
                "expire", bucket="logs-bucket",
                rules=[{"id": "expire", "status": "Enabled", "expiration": {"days": 90}}])
    return program


def test_access_log_buckets_are_sse_s3_encrypted_and_expire():
    rule = "alb-access-logs-encrypted-with-lifecycle"
    assert len(violations(rule, _access_logs(None, False))) == 2
    found = violations(rule, _access_logs("aws:kms", True))
    assert len(found) == 1 and "SSE-S3" in found[0].message
    assert violations(rule, _access_logs("AES256", True)) == []


def _autoscaled_service(ignore: bool):
    def program():
        cluster = aws.ecs.Cluster("cluster")
        service = aws.ecs.Service("svc", cluster=cluster.arn, desired_count=1,
                                  opts=pulumi.ResourceOptions(
                                      ignore_changes=["desiredCount"] if ignore else None))
        aws.appautoscaling.Target(
            "target", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster.name, "/", service.name),
            min_capacity=1, max_capacity=4)
    return program


def test_autoscaled_services_ignore_desired_count():
    rule = "autoscaled-ecs-service-ignores-desired-count"
    assert [v.resource for v in violations(rule, _autoscaled_service(False))] == ["svc"]
    assert violations(rule, _autoscaled_service(True)) == []


MSK_ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/c/0123abcd-0000-0000-0000-000000000000-s1"


def _mapped_function(timeout: int, **mapping):
    def program():
        function = aws.lambda_.Function(
            "fn", role="arn:aws:iam::123456789012:role/r", runtime="python3.13", handler="h.h",
            code=pulumi.AssetArchive({}), timeout=timeout)
        aws.lambda_.EventSourceMapping("esm", function_name=function.arn,
                                       event_source_arn=MSK_ARN, topics=["events"],
                                       starting_position="TRIM_HORIZON", **mapping)
    return program


def test_msk_mapped_functions_time_out_within_14_minutes():
    rule = "msk-mapped-function-timeout-at-most-840s"
    found = violations(rule, _mapped_function(900))
    assert [v.resource for v in found] == ["fn"] and "840" in found[0].message
    assert violations(rule, _mapped_function(840)) == []


def test_kafka_error_handling_needs_provisioned_pollers():
    rule = "kafka-error-handling-needs-provisioned-mode"
    on_demand = violations(rule, _mapped_function(
        60, function_response_types=["ReportBatchItemFailures"], maximum_retry_attempts=3))
    assert [v.resource for v in on_demand] == ["esm"]
    assert "ReportBatchItemFailures" in on_demand[0].message
    assert violations(rule, _mapped_function(
        60, function_response_types=["ReportBatchItemFailures"], maximum_retry_attempts=3,
        provisioned_poller_config={"minimum_pollers": 1})) == []


def _role_policy(*statements: dict):
    def program():
        aws.iam.RolePolicy("policy", role="role", policy=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    return program


def _allow(actions, resource):
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def test_identity_policies_name_every_action():
    rule = "iam-no-wildcard-actions"
    assert len(violations(rule, _role_policy(_allow(["s3:*"], "arn:aws:s3:::b")))) == 1
    assert len(violations(rule, _role_policy(_allow(["ec2:Describe*"], "*")))) == 1
    denied = {"Effect": "Deny", "Action": "sqs:*", "Resource": "*"}
    assert violations(rule, _role_policy(denied, _allow(["s3:GetObject"], "arn:aws:s3:::b/k"))) \
        == []


@pytest.mark.parametrize(("statement", "violates"), [
    (_allow(["s3:GetObject"], "*"), True),
    (_allow(["s3:GetObject"], "arn:aws:s3:::bucket/*"), True),
    (_allow(["s3:PutObject"], "arn:aws:s3:::bucket/dead-letters/*"), False),  # a key prefix
    (_allow(["s3:PutObject"], "arn:aws:s3:::bucket-*/dead-letters/*"), True),
    (_allow(["ecr:GetAuthorizationToken"], "*"), False),
    (_allow(["ec2:CreateNetworkInterface", "ec2:DescribeSubnets"], "*"), False),
    (_allow(["logs:PutLogEvents"],
            "arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:*"), False),
    (_allow(["logs:PutLogEvents"], "arn:aws:logs:us-east-1:123456789012:log-group:g:*"), False),
    (_allow(["logs:PutLogEvents"], "arn:aws:logs:us-east-1:123456789012:log-group:*"), True),
])
def test_resources_are_exact_arns_except_where_aws_requires_star(statement, violates):
    assert bool(violations("iam-exact-resources", _role_policy(statement))) is violates


def test_no_resource_policy_allows_anyone():
    def program(principal):
        def run():
            queue = aws.sqs.Queue("q", sqs_managed_sse_enabled=True)
            aws.sqs.QueuePolicy("qp", queue_url=queue.url, policy=json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Sid": "Send", "Effect": "Allow", "Principal": principal,
                     "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:1:q"}]}))
        return run

    rule = "no-public-resource-policies"
    assert [v.resource for v in violations(rule, program("*"))] == ["qp"]
    assert violations(rule, program({"AWS": "arn:aws:iam::123456789012:role/r"})) == []


@pytest.mark.parametrize(("rule", "bad", "good"), [
    ("sqs-encrypted", lambda: aws.sqs.Queue("r"),
     lambda: aws.sqs.Queue("r", sqs_managed_sse_enabled=True)),
    ("sns-topic-encrypted", lambda: aws.sns.Topic("r"),
     lambda: aws.sns.Topic("r", kms_master_key_id="arn:aws:kms:us-east-1:123456789012:key/1")),
    ("ecr-encrypted-with-kms", lambda: aws.ecr.Repository("r"),
     lambda: aws.ecr.Repository("r", encryption_configurations=[{"encryption_type": "KMS"}])),
    ("kms-key-rotation", lambda: aws.kms.Key("r"),
     lambda: aws.kms.Key("r", enable_key_rotation=True)),
    ("alarm-has-action",
     lambda: aws.cloudwatch.MetricAlarm("r", comparison_operator="GreaterThanThreshold",
                                        evaluation_periods=1, threshold=1),
     lambda: aws.cloudwatch.MetricAlarm("r", comparison_operator="GreaterThanThreshold",
                                        evaluation_periods=1, threshold=1,
                                        alarm_actions=["arn:aws:sns:us-east-1:1:alarms"])),
])
def test_encryption_and_alarm_rules(rule, bad, good):
    assert [v.resource for v in violations(rule, bad)] == ["r"]
    assert violations(rule, good) == []


def test_the_operators_guide_lists_every_rule():
    rules = section(page("operating.md"), "Policy pack: the rules AWS enforces, executable")
    assert [p.name for p in ALL_POLICIES if f"`{p.name}`" not in rules] == []
