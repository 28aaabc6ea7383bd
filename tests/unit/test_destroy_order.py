"""`pulumi destroy` of a stack completes in one pass: dependencies order the deletes, and the
resources AWS is known to hold up (VPC Lambda / event source mapping ENIs) wait instead of fail.

Pulumi deletes in reverse dependency order, so "A is deleted before B" is "A depends on B".
"""

from __future__ import annotations

import pytest

from testing.pulumi_harness import run_main, stack_config

ENI_RELEASE_TIMEOUT = "45m"


@pytest.fixture
def dev(options):
    run = run_main(stack_config("dev"))
    return run, options


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
    # The pool belongs to bootstrap/ipam: destroying an app stack releases only its VPC's
    # allocation, and no pool or pool CIDR waits for IPAM to release it.
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
