"""The limits and rules re-read against today's AWS pages, each with a violation test for the
settings and for the policy pack:

- ACM API reference, RequestCertificate: DomainName "cannot exceed 64 octets (characters),
  including periods" (RFC 5280's Common Name); longer names only as Subject Alternative Names.
- ELB guide, "Security policies for your Application Load Balancer": AWS recommends the
  post-quantum TLS 1.3 policies ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09 (and its FIPS form);
  every ELBSecurityPolicy-TLS13-* policy is a TLS 1.3 policy.
- SNS guide, "Managing Amazon SNS encryption keys", "Enable compatibility between event sources
  from AWS services and encrypted topics": CloudWatch alarms publish to an encrypted topic only
  with a customer managed key whose policy lets cloudwatch.amazonaws.com use it; the AWS managed
  key alias/aws/sns has a policy nobody can change.
- Amazon VPC IPAM guide, "Quotas for your IPAM": "IPAMs per Region" 1, not adjustable.
- Amazon MSK developer guide, "Amazon MSK quota", MSK Serverless quota: maximum number of
  partitions (leaders) per cluster 2400 for non-compacted topics, 120 for compacted topics.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

import settings.limits
from policy.rules import ALL_POLICIES
from policy.rules import limits as pack_limits
from testing.policy_run import check
from testing.pulumi_harness import IPAM_QUOTA, run_program

POLICY = {p.name: p for p in ALL_POLICIES}
PROJECT = "event-pipeline"
POOL = "ipam-pool-0a1b2c3d4e5f60718"


def violations(rule: str, program) -> list:
    return check(run_program(program), [POLICY[rule]])


def _problems(config: dict[str, str]) -> str | None:
    from settings import load_settings

    full = {"ipamPoolId": POOL, **config}
    pulumi.runtime.set_all_config({f"{PROJECT}:{k}": v for k, v in full.items()})
    try:
        load_settings(pulumi.Config(PROJECT), region="us-east-1")
    except pulumi.RunError as error:
        return str(error)
    return None


def _name(length: int) -> str:
    """A valid DNS name of exactly `length` characters under example.com."""
    label = "a" * (length - len(".example.com"))
    return f"{label}.example.com"


# --- ACM: DomainName at most 64 characters ----------------------------------------------------

def test_acm_domain_name_limit_is_64_in_settings_and_pack():
    assert settings.limits.ACM_DOMAIN_NAME_MAX == 64
    assert pack_limits.ACM_DOMAIN_NAME_MAX == settings.limits.ACM_DOMAIN_NAME_MAX


def test_settings_refuse_a_domain_name_acm_refuses():
    assert _problems({"domainName": _name(64), "hostedZoneId": "Z1"}) is None
    problems = _problems({"domainName": _name(65), "hostedZoneId": "Z1"})
    assert problems and "domainName" in problems and "at most 64 characters" in problems


def test_pack_refuses_a_certificate_for_a_domain_name_over_64_characters():
    def program(name: str):
        return lambda: aws.acm.Certificate("cert", domain_name=name, validation_method="DNS")

    rule = "acm-domain-name-at-most-64"
    assert [v.resource for v in violations(rule, program(_name(65)))] == ["cert"]
    assert violations(rule, program(_name(64))) == []


# --- ALB: every TLS 1.3 policy, the post-quantum ones included ----------------------------------

def _https_listener(policy: str):
    def program():
        aws.lb.Listener("https", load_balancer_arn="arn:aws:elasticloadbalancing:us-east-1:1:"
                        "loadbalancer/app/alb/1", port=443, protocol="HTTPS", ssl_policy=policy,
                        certificate_arn="arn:aws:acm:us-east-1:1:certificate/1",
                        default_actions=[{"type": "fixed-response", "fixed_response": {
                            "content_type": "text/plain", "status_code": "404"}}])
    return program


@pytest.mark.parametrize("policy", [
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",  # AWS's recommendation today
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
])
def test_pack_accepts_every_tls13_policy(policy):
    assert violations("alb-tls13-policy", _https_listener(policy)) == []


@pytest.mark.parametrize("policy", [
    "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10", "ELBSecurityPolicy-TLS13",
    # TLS 1.3 policies that still allow TLS 1.0 / 1.1 as a minimum
    "ELBSecurityPolicy-TLS13-1-0-2021-06", "ELBSecurityPolicy-TLS13-1-1-2021-06",
])
def test_pack_refuses_policies_without_tls13(policy):
    found = violations("alb-tls13-policy", _https_listener(policy))
    assert [v.resource for v in found] == ["https"]


# --- SNS: not the AWS managed key --------------------------------------------------------------

@pytest.mark.parametrize("key", [
    "alias/aws/sns", "arn:aws:kms:us-east-1:123456789012:alias/aws/sns",
])
def test_pack_refuses_the_aws_managed_sns_key(key):
    found = violations("sns-topic-encrypted", lambda: aws.sns.Topic("r", kms_master_key_id=key))
    assert [v.resource for v in found] == ["r"]
    assert "customer managed" in found[0].message


@pytest.mark.parametrize("key", [
    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "alias/alarms",
])
def test_pack_accepts_a_customer_managed_sns_key(key):
    assert violations("sns-topic-encrypted",
                      lambda: aws.sns.Topic("r", kms_master_key_id=key)) == []


# --- IPAM: one per Region, not adjustable ------------------------------------------------------

def test_the_ipam_rule_states_the_quota_as_aws_does():
    description = POLICY["one-ipam-per-account"].description
    assert "IPAMs per Region" in description and "not adjustable" in description
    assert "Quotas for your IPAM" in description
    assert IPAM_QUOTA == 1


def test_the_settings_source_states_the_ipam_quota_as_aws_does():
    from settings.declarations import NetworkSettings

    source = NetworkSettings.model_fields["ipam_pool_id"].json_schema_extra["source"]
    assert "IPAMs per Region" in source and "one IPAM per account" not in source


# --- MSK Serverless: 2400 partitions per cluster (non-compacted topics) -------------------------

def test_msk_serverless_partition_quota_is_todays():
    assert settings.limits.MSK_SERVERLESS_MAX_PARTITIONS == 2400
    assert pack_limits.MSK_SERVERLESS_MAX_PARTITIONS == \
        settings.limits.MSK_SERVERLESS_MAX_PARTITIONS


def test_settings_take_up_to_2400_partitions():
    assert _problems({"topicPartitions": "2400", "allowPlainHttp": "true"}) is None
    problems = _problems({"topicPartitions": "2401", "allowPlainHttp": "true"})
    assert problems and "from 1 to 2400" in problems


def test_pack_refuses_a_topic_beyond_the_partition_quota():
    def program(partitions: int):
        return lambda: aws.lambda_.Invocation(
            "provision", function_name="topic-admin",
            input=json.dumps({"topic": "events", "partitions": partitions}))

    rule = "msk-serverless-partitions-within-quota"
    assert [v.resource for v in violations(rule, program(2401))] == ["provision"]
    assert violations(rule, program(2400)) == []
