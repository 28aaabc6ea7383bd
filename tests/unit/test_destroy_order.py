"""`pulumi destroy` of a stack completes in one pass: dependencies order the deletes, and the
resources AWS is known to hold up (VPC Lambda / event source mapping ENIs) wait instead of fail.

Deleting the VPC waits on IPAM: its CIDR is an allocation of the bootstrap stack's pool, and the
provider's VPC delete returns only once IPAM has released that allocation, 10-30 minutes after
the VPC is gone (hashicorp/terraform-provider-aws#31211, the wait added by #30795, its own timeout
raised to 35 minutes by #34859; pulumi/pulumi-aws#4346: inherited by pulumi-aws, and a
customTimeouts on the Vpc does not change that wait). The bootstrap stack's pool CIDR cannot be
deprovisioned while an allocation remains ("The CIDR has one or more allocations",
hashicorp/terraform-provider-aws#30165), so bootstrap/ipam is destroyed after every application
stack and after IPAM has released their allocations (docs/operating.md, "Destroy").

Pulumi deletes in reverse dependency order, so "A is deleted before B" is "A depends on B".
"""

from __future__ import annotations

import pytest

from testing.pulumi_harness import PROJECT_ROOT, AwsAccount, run_project, stack_config
from testing.run_cache import cached_main

ENI_RELEASE_TIMEOUT = "45m"


@pytest.fixture
def dev():
    """The dev stack's run and each resource's options (delete_timeout, ...) by logical name."""
    run = cached_main(stack_config("dev"))
    return run, {r.name: r.options for r in run.resources}


def _urn(run, type_: str, name: str | None = None) -> str:
    return run.one(type_, name).urn


def _depends(run, resource, target_urn: str) -> bool:
    return target_urn in resource.dependencies


def test_event_source_mapping_goes_before_the_function(dev):
    run, _ = dev
    mapping = run.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert _depends(run, mapping, run.one("aws:lambda/function:Function", "consumer-function").urn)


def test_function_goes_before_its_security_group(dev):
    run, _ = dev
    function = run.one("aws:lambda/function:Function", "consumer-function")
    assert _depends(run, function, _urn(run, "aws:ec2/securityGroup:SecurityGroup", "consumer-sg"))
    subnets = [s for s in run.of_type("aws:ec2/subnet:Subnet") if "private" in s.name]
    assert all(_depends(run, function, s.urn) for s in subnets)


def test_subnets_go_before_the_vpc_and_the_stack_holds_no_ipam_pool(dev):
    run, _ = dev
    # The pool belongs to bootstrap/ipam: an app stack holds no IPAM, pool or pool CIDR, only its
    # VPC's allocation, which the VPC's delete waits for IPAM to release (module docstring).
    assert not [r for r in run.resources if "vpcIpam" in r.type]
    vpc = run.one("aws:ec2/vpc:Vpc")
    subnets = run.of_type("aws:ec2/subnet:Subnet")
    assert subnets and all(vpc.urn in s.dependencies for s in subnets)


def test_resources_that_wait_for_aws_to_release_lambda_enis(dev):
    run, options = dev
    waiting = {name for name, opt in options.items()
               if opt["delete_timeout"] == ENI_RELEASE_TIMEOUT}
    subnets = {s.name for s in run.of_type("aws:ec2/subnet:Subnet")}
    # The function's group, the cluster's group (the mapping's pollers use it) and every subnet.
    assert {"consumer-sg", "kafka-sg"} | subnets <= waiting


def test_the_vpc_delete_waits_for_ipam_and_no_custom_timeout_pretends_otherwise(dev):
    run, options = dev
    vpc = run.one("aws:ec2/vpc:Vpc")
    # Its CIDR is an allocation of the account's pool: the provider's delete waits (up to its own
    # 35 minutes) until IPAM releases it. A customTimeouts on the Vpc does not change that wait
    # (pulumi/pulumi-aws#4346), so the VPC carries none; if IPAM takes longer, the delete fails
    # after the VPC is gone and a second `pulumi destroy` completes (docs/operating.md, "Destroy").
    assert vpc.inputs["ipv4IpamPoolId"] and vpc.inputs["ipv4NetmaskLength"]
    assert options[vpc.name]["delete_timeout"] in (None, "")


def test_bootstrap_teardown_deprovisions_the_pool_cidr_before_the_pool_and_the_ipam():
    run = run_project(PROJECT_ROOT / "bootstrap" / "ipam",
                      stack_config("account", PROJECT_ROOT / "bootstrap" / "ipam"),
                      account=AwsAccount(), stack="account")
    ipam = run.one("aws:ec2/vpcIpam:VpcIpam")
    pools = run.of_type("aws:ec2/vpcIpamPool:VpcIpamPool")
    cidrs = run.of_type("aws:ec2/vpcIpamPoolCidr:VpcIpamPoolCidr")
    assert pools and len(cidrs) == len(pools)
    # Reverse dependency order: each pool CIDR (deprovisioned first; AWS refuses while an app
    # stack's allocation remains, terraform-provider-aws#30165), then its pool, then the IPAM.
    assert all(any(p.urn in c.dependencies for p in pools) for c in cidrs)
    assert all(ipam.urn in p.dependencies for p in pools)
    assert ipam.inputs.get("cascade") is True
