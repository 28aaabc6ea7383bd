"""Subnets big enough for the ALB, no public IPs, no public ingress but HTTP(S) to the ALB."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import as_list, of_type
from .limits import ALB_MAX_SUBNET_PREFIX

LB = "aws:lb/loadBalancer:LoadBalancer"
SUBNET = "aws:ec2/subnet:Subnet"
ECS_SERVICE = "aws:ecs/service:Service"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
PUBLIC_PORTS = {80, 443}


def _application_lbs(resources: list[PolicyResource]) -> list[PolicyResource]:
    return [lb for lb in of_type(resources, LB)
            if lb.props.get("loadBalancerType", "application") == "application"]


def _with_id(resources: list[PolicyResource], resource_id: str) -> PolicyResource | None:
    # Stack validations see outputs, not ids: an EC2 ARN ends with "/<id>".
    return next((r for r in resources if r.props.get("id") == resource_id
                 or str(r.props.get("arn", "")).endswith(f"/{resource_id}")), None)


def _alb_subnets_are_big_enough(args: StackValidationArgs, report: ReportViolation) -> None:
    subnets = of_type(args.resources, SUBNET)
    for lb in _application_lbs(args.resources):
        ids = as_list(lb.props.get("subnets")) + [
            m.get("subnetId") for m in as_list(lb.props.get("subnetMappings"))]
        for subnet_id in ids:
            subnet = _with_id(subnets, subnet_id)
            cidr = subnet.props.get("cidrBlock") if subnet else None
            if cidr and ipaddress.ip_network(cidr).prefixlen > ALB_MAX_SUBNET_PREFIX:
                report(f"{lb.name}: subnet {subnet.name} is {cidr}; an Application Load "
                       f"Balancer needs subnets of at least /{ALB_MAX_SUBNET_PREFIX}", lb.urn)


def _no_public_ips(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == SUBNET and args.props.get("mapPublicIpOnLaunch"):
        report(f"{args.name}: subnets must not give public IPs on launch")
    if args.resource_type == ECS_SERVICE:
        network = args.props.get("networkConfiguration") or {}
        if network.get("assignPublicIp"):
            report(f"{args.name}: tasks must not get public IPs (they reach AWS through VPC "
                   "endpoints)")


def _cidr_ingress(resources: list[PolicyResource]) -> Iterator[tuple[PolicyResource, str, Any,
                                                                     Any, str]]:
    """(resource, security group id, from port, to port, CIDR) of every CIDR-based ingress."""
    for rule in of_type(resources, INGRESS_RULE):
        for key in ("cidrIpv4", "cidrIpv6"):
            if rule.props.get(key):
                yield (rule, rule.props.get("securityGroupId"), rule.props.get("fromPort"),
                       rule.props.get("toPort"), rule.props[key])
    for rule in of_type(resources, LEGACY_RULE):
        if rule.props.get("type") == "ingress":
            for cidr in as_list(rule.props.get("cidrBlocks")) + as_list(
                    rule.props.get("ipv6CidrBlocks")):
                yield (rule, rule.props.get("securityGroupId"), rule.props.get("fromPort"),
                       rule.props.get("toPort"), cidr)
    for group in of_type(resources, SG):
        for inline in as_list(group.props.get("ingress")):
            for cidr in as_list(inline.get("cidrBlocks")) + as_list(inline.get("ipv6CidrBlocks")):
                yield (group, _group_id(group), inline.get("fromPort"), inline.get("toPort"),
                       cidr)


def _group_id(group: PolicyResource) -> str:
    return str(group.props.get("id") or str(group.props.get("arn", "")).rsplit("/", 1)[-1])


def _only_the_alb_admits_the_internet(args: StackValidationArgs,
                                      report: ReportViolation) -> None:
    alb_groups = {g for lb in _application_lbs(args.resources)
                  for g in as_list(lb.props.get("securityGroups"))}
    for resource, group, low, high, cidr in _cidr_ingress(args.resources):
        if group not in alb_groups:
            report(f"{resource.name}: ingress from {cidr} to a group that is not a load "
                   "balancer's; security groups admit other security groups", resource.urn)
        elif low != high or low not in PUBLIC_PORTS:
            report(f"{resource.name}: the load balancer admits {cidr} on {low}-{high}; only 80 "
                   "and 443 may be public", resource.urn)


POLICIES = [
    StackValidationPolicy(
        name="alb-subnets-at-least-27",
        description="Load balancer subnets are /27 or bigger (ELB guide, 'Application Load "
                    "Balancers': subnets with at least a /27 bitmask and 8 free IPs).",
        validate=_alb_subnets_are_big_enough,
    ),
    ResourceValidationPolicy(
        name="no-public-ips",
        description="No public IPs on subnets or tasks (ECS guide, 'Amazon ECS task networking "
                    "options for Fargate': assignPublicIp; tasks use VPC endpoints).",
        validate=_no_public_ips,
    ),
    StackValidationPolicy(
        name="public-ingress-only-80-443-on-the-alb",
        description="CIDR ingress only to a load balancer's group, on 80/443 (ELB guide, "
                    "'Security groups for your Application Load Balancer').",
        validate=_only_the_alb_admits_the_internet,
    ),
]
