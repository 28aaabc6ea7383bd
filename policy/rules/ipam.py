"""Only the bootstrap project creates an IPAM.

Amazon VPC IPAM guide, "Quotas for your IPAM" (https://docs.aws.amazon.com/vpc/latest/ipam/
quotas-ipam.html), table Name / Default / Adjustable: "IPAMs per Region | 1 | No" (Service Quotas
L-F8B4A9E6): per Region, not per account, and not adjustable (re-read 2026-12-07 in a public copy
of the page, "All content copied from https://docs.aws.amazon.com/"). One
IPAM manages many Regions (its operating Regions), so this project keeps one per account, in
bootstrap/ipam's home Region, with a pool per Region; an application stack never makes one."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import BOOTSTRAP_PROJECT, project_of

IPAM = "aws:ec2/vpcIpam:VpcIpam"


def _only_the_bootstrap_creates_an_ipam(args: ResourceValidationArgs,
                                        report: ReportViolation) -> None:
    if args.resource_type == IPAM and project_of(args.urn) != BOOTSTRAP_PROJECT:
        report(f"{args.name}: an application stack must not create an IPAM; an account can "
               f"have one per Region (not adjustable) and {BOOTSTRAP_PROJECT} owns it, so take "
               f"an existing pool (ipamPoolId) from {BOOTSTRAP_PROJECT}")


POLICIES = [
    ResourceValidationPolicy(
        name="one-ipam-per-account",
        description="Only bootstrap/ipam creates an IPAM: IPAMs per Region 1, not adjustable "
                    "(VPC IPAM guide, 'Quotas for your IPAM').",
        validate=_only_the_bootstrap_creates_an_ipam,
    ),
]
