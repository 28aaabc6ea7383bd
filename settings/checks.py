"""Rules between settings: each runs only when the keys it reads were valid on their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from settings import limits

if TYPE_CHECKING:
    from settings.loader import Reader


def subnets_fit_the_vpc(r: Reader) -> None:
    # One private and one public subnet per AZ, all cut from the VPC's CIDR.
    keys = ("vpcNetmaskLength", "subnetNetmaskLength", "availabilityZoneCount")
    if not r.ok(*keys):
        return
    vpc, subnet, azs = (r.values[k] for k in keys)
    needed = 2 * azs
    if subnet <= vpc or 2 ** (subnet - vpc) < needed:
        r.problem("subnetNetmaskLength", subnet,
                  f"a /{vpc} VPC must hold {needed} subnets (2 x {azs} AZs) of this size; use a "
                  f"longer netmask (ALB subnets: at most /{limits.ALB_MAX_SUBNET_PREFIX}) or a "
                  "bigger VPC")


def task_counts_are_ordered(r: Reader) -> None:
    keys = ("apiDesiredCount", "apiMinCount", "apiMaxCount")
    if not r.ok(*keys):
        return
    desired, low, high = (r.values[k] for k in keys)
    if high < low:
        r.problem("apiMaxCount", high, f"must be >= apiMinCount ({low})")
    elif not low <= desired <= high:
        r.problem("apiDesiredCount", desired,
                  f"must be between apiMinCount ({low}) and apiMaxCount ({high}); to stop the "
                  "API set apiMinCount to 0 too")


def fargate_memory_fits_the_cpu(r: Reader) -> None:
    # ECS guide, "Amazon ECS task definition parameters for Fargate" (task size).
    if not r.ok("apiCpu", "apiMemory"):
        return
    cpu, memory = r.values["apiCpu"], r.values["apiMemory"]
    allowed = limits.FARGATE_MEMORY_BY_CPU[cpu]
    if memory not in allowed:
        r.problem("apiMemory", memory,
                  f"with apiCpu {cpu} Fargate allows {allowed[0]}-{allowed[-1]} MiB "
                  f"({', '.join(map(str, allowed))})")


def some_capacity_has_weight(r: Reader) -> None:
    if r.ok("onDemandWeight", "spotWeight") and (
            r.values["onDemandWeight"] + r.values["spotWeight"] == 0):
        r.problem("spotWeight", r.values["spotWeight"], "onDemandWeight + spotWeight must be > 0")


def certificate_is_in_the_stack_region(r: Reader) -> None:
    # ACM guide, "Supported Regions": certificates are regional; a load balancer can only use
    # one from its own Region.
    arn = r.values.get("certificateArn")
    if arn and r.ok("certificateArn") and r.region and arn.split(":")[3] != r.region:
        r.problem("certificateArn", arn,
                  f"the certificate is in {arn.split(':')[3]}, the load balancer in "
                  f"{r.region}: ACM certificates are regional; use one from {r.region}")


def https_unless_plain_http_is_explicit(r: Reader) -> None:
    keys = ("certificateArn", "domainName", "hostedZoneId", "allowPlainHttp")
    if not r.ok(*keys):
        return
    certificate, domain, zone, plain = (r.values[k] for k in keys)
    if certificate and domain:
        r.problem("domainName", domain, "set either certificateArn or domainName, not both")
    elif domain and not zone:
        r.problem("hostedZoneId", zone, "domainName needs the Route 53 hosted zone that "
                                        "validates its certificate (hostedZoneId)")
    elif zone and not domain:
        r.problem("hostedZoneId", zone, "has no effect without domainName")
    elif plain and (certificate or domain):
        r.problem("allowPlainHttp", plain, "contradicts the certificate: with certificateArn or "
                                           "domainName HTTP redirects to HTTPS")
    elif not (plain or certificate or domain):
        r.problems.append(
            f"{r.config.full_key('certificateArn')}, {r.config.full_key('domainName')} or "
            f"{r.config.full_key('allowPlainHttp')} must be set: the API serves HTTPS (a "
            "certificate ARN, or a domain name with hostedZoneId to issue one) unless the stack "
            "explicitly allows plain HTTP")


def access_log_retention_needs_access_logs(r: Reader) -> None:
    if (r.was_set("albAccessLogRetentionDays") and r.ok("albAccessLogs")
            and not r.values["albAccessLogs"]):
        r.problem("albAccessLogRetentionDays", r.values["albAccessLogRetentionDays"],
                  "has no effect without albAccessLogs = true")


def retry_limits_need_provisioned_pollers(r: Reader) -> None:
    # Lambda guide, "Configuring error handling controls for Kafka event sources": retry
    # attempts exist in provisioned mode only; on-demand mappings retry until records expire.
    if (r.was_set("consumerMaxRetryAttempts") and r.ok("consumerProvisionedPollers")
            and r.values["consumerProvisionedPollers"] == 0):
        r.problem("consumerMaxRetryAttempts", r.values["consumerMaxRetryAttempts"],
                  "retry limits exist only in provisioned mode: set consumerProvisionedPollers "
                  ">= 1, or drop this key (on-demand mappings retry until the record expires)")


CHECKS: tuple[Callable[[Reader], None], ...] = (
    subnets_fit_the_vpc,
    task_counts_are_ordered,
    fargate_memory_fits_the_cpu,
    some_capacity_has_weight,
    certificate_is_in_the_stack_region,
    https_unless_plain_http_is_explicit,
    access_log_retention_needs_access_logs,
    retry_limits_need_provisioned_pollers,
)
