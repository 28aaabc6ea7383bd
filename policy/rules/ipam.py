"""One IPAM per account: only the bootstrap project creates it."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import BOOTSTRAP_PROJECT, project_of

IPAM = "aws:ec2/vpcIpam:VpcIpam"


def _only_the_bootstrap_creates_an_ipam(args: ResourceValidationArgs,
                                        report: ReportViolation) -> None:
    if args.resource_type == IPAM and project_of(args.urn) != BOOTSTRAP_PROJECT:
        report(f"{args.name}: an application stack must not create an IPAM; an account can "
               f"create one, so take an existing pool (ipamPoolId) from {BOOTSTRAP_PROJECT}")


POLICIES = [
    ResourceValidationPolicy(
        name="one-ipam-per-account",
        description="Only bootstrap/ipam creates an IPAM (VPC IPAM guide, 'Create an IPAM': "
                    "you can only create one IPAM).",
        validate=_only_the_bootstrap_creates_an_ipam,
    ),
]
