"""One IPAM per account: bootstrap/ipam creates it once; application stacks take its pool.

"You can only create one IPAM" ("Create an IPAM", Amazon VPC IPAM guide): the mocked account
refuses a second one, so these runs fail if any stack creates an IPAM it should not.
"""

from __future__ import annotations

import ipaddress

import pulumi
import pytest

from testing.pulumi_harness import (
    PROJECT_ROOT,
    REGION,
    AwsAccount,
    AwsRefusal,
    PulumiRun,
    run_main,
    run_project,
    stack_config,
)

BOOTSTRAP = PROJECT_ROOT / "bootstrap" / "ipam"
IPAM = "aws:ec2/vpcIpam:VpcIpam"
POOL = "aws:ec2/vpcIpamPool:VpcIpamPool"
POOL_CIDR = "aws:ec2/vpcIpamPoolCidr:VpcIpamPoolCidr"
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"


def bootstrap(account: AwsAccount, config: dict | None = None) -> PulumiRun:
    return run_project(BOOTSTRAP, {**stack_config("account", BOOTSTRAP), **(config or {})},
                       account=account, stack="account")


@pytest.fixture(scope="module")
def account_with_apps() -> tuple[AwsAccount, PulumiRun, dict[str, PulumiRun]]:
    """A fresh account: the bootstrap stack, then dev and prod in the same account and region,
    each given the bootstrap's pool as the README's deploy steps say."""
    account = AwsAccount()
    boot = bootstrap(account)
    apps = {stack: run_main({**stack_config(stack), "ipamPoolId": boot.outputs["poolId"]},
                            account=account, stack=stack)
            for stack in ("dev", "prod")}
    return account, boot, apps


def test_the_bootstrap_stack_creates_exactly_one_ipam_and_a_pool_per_region(account_with_apps):
    account, boot, _ = account_with_apps
    ipam = boot.one(IPAM)
    assert ipam.inputs["operatingRegions"] == [{"regionName": REGION}]
    pool = boot.one(POOL)
    assert pool.inputs["ipamScopeId"] == ipam.outputs["privateDefaultScopeId"]
    assert (pool.inputs["addressFamily"], pool.inputs["locale"]) == ("ipv4", REGION)
    assert boot.one(POOL_CIDR).inputs == {"ipamPoolId": pool.id, "cidr": "10.11.0.0/16"}
    assert boot.outputs == {"ipamId": ipam.id, "poolIds": {REGION: pool.id}, "poolId": pool.id}
    assert account.ipams == [ipam.id]


def test_dev_and_prod_in_one_account_create_no_ipam_between_them(account_with_apps):
    account, boot, apps = account_with_apps
    for run in apps.values():
        assert not [r for r in run.resources if "vpcIpam" in r.type]
        assert run.one(VPC).inputs["ipv4IpamPoolId"] == boot.outputs["poolId"]
    assert len(account.ipams) == 1


def test_each_stack_gets_its_own_block_of_the_pool_and_subnets_fit_it(account_with_apps):
    _, _, apps = account_with_apps
    pool = ipaddress.ip_network("10.11.0.0/16")
    vpcs = {stack: ipaddress.ip_network(run.one(VPC).outputs["cidrBlock"])
            for stack, run in apps.items()}
    assert all(v.subnet_of(pool) for v in vpcs.values())
    assert not vpcs["dev"].overlaps(vpcs["prod"])
    for stack, run in apps.items():
        subnets = [ipaddress.ip_network(s.outputs["cidrBlock"]) for s in run.of_type(SUBNET)]
        assert all(s.subnet_of(vpcs[stack]) for s in subnets), stack
        assert not any(a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1:])


def test_a_second_bootstrap_in_the_same_account_is_refused(account_with_apps):
    account, _, _ = account_with_apps
    with pytest.raises(AwsRefusal, match="quota is 1"):
        bootstrap(account)


def test_the_bootstrap_can_serve_several_regions_from_one_ipam():
    boot = bootstrap(AwsAccount(), {"pools": {REGION: "10.11.0.0/16",
                                              "eu-west-1": "10.12.0.0/16"}})
    assert len(boot.of_type(IPAM)) == 1
    assert {p.inputs["locale"] for p in boot.of_type(POOL)} == {REGION, "eu-west-1"}
    assert boot.one(IPAM).inputs["operatingRegions"] == [
        {"regionName": REGION}, {"regionName": "eu-west-1"}]
    assert set(boot.outputs["poolIds"]) == {REGION, "eu-west-1"}


@pytest.mark.parametrize(("pools", "expected"), [
    ({REGION: "10.11.0.1/16"}, "no host bits"),
    ({REGION: "10.11.0.0/29"}, "/28 or larger"),
    ({"mars-1": "10.11.0.0/16"}, "not an AWS region name"),
    ({REGION: "10.11.0.0/16", "eu-west-1": "10.11.128.0/17"}, "overlaps the pool of us-east-1"),
    ([], "must map regions to IPv4 CIDRs"),
])
def test_bad_bootstrap_config_stops_before_any_resource(pools, expected):
    account = AwsAccount()
    with pytest.raises(pulumi.RunError, match="Invalid bootstrap configuration") as error:
        bootstrap(account, {"pools": pools})
    assert expected in str(error.value)
    assert account.ipams == []
