"""The fake AWS account the mocked stacks deploy into: ids, ARNs, the IPAM pools and the VPC
and subnet CIDRs it holds, and the refusals AWS would answer (`AwsRefusal`).

One account outlives a run: pass the same one to several runs to deploy several stacks into one
account and region. `AwsAccount.bootstrapped()` is the account as bootstrap/ipam leaves it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
GLOBAL_SERVICES = {"iam", "s3", "route53"}  # no region in their ARNs
ACCOUNTLESS_SERVICES = {"s3"}  # bucket ARNs have no account either


class AwsRefusal(Exception):
    """What AWS would answer with an error; raised from the mocked provider call."""


# "Quotas for your IPAM" (Amazon VPC IPAM guide, https://docs.aws.amazon.com/vpc/latest/ipam/
# quotas-ipam.html): "IPAMs per Region" 1, not adjustable. The mocked account is one Region, so
# it holds one IPAM.
IPAM_QUOTA = 1
# "Subnet CIDR blocks" (Amazon VPC guide): IPv4 VPCs and subnets are /16 to /28.
VPC_NETMASKS = range(16, 29)
# The regional pool bootstrap/ipam left in a bootstrapped account (the example stack files name
# it), and the CIDR provisioned to it.
BOOTSTRAPPED_POOL_ID = "ipam-pool-0a1b2c3d4e5f60718"
BOOTSTRAPPED_POOL_CIDR = "10.11.0.0/16"


@dataclass
class AwsAccount:
    """One AWS account and region, shared by the runs that deploy into it."""

    account_id: str = ACCOUNT_ID
    region: str = REGION
    partition: str = PARTITION
    ipam_quota: int = IPAM_QUOTA
    # pool id -> provisioned CIDRs: pools that exist before the run (a delegated IPAM admin's,
    # or the bootstrap stack's) and pools the runs create.
    ipam_pools: dict[str, list[str]] = field(default_factory=dict)
    ipams: list[str] = field(default_factory=list)
    allocations: dict[str, list[ipaddress.IPv4Network]] = field(default_factory=dict)
    vpc_cidrs: dict[str, ipaddress.IPv4Network] = field(default_factory=dict)
    subnet_cidrs: dict[str, list[ipaddress.IPv4Network]] = field(default_factory=dict)
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def bootstrapped(cls, **kwargs: Any) -> AwsAccount:
        """An account as the README's deploy step 2 leaves it: bootstrap/ipam created its one
        IPAM and the region's pool BOOTSTRAPPED_POOL_ID. Runs deploy into such an account by
        default."""
        return cls(ipams=["ipam-0b00757ab00757ab0"],
                   ipam_pools={BOOTSTRAPPED_POOL_ID: [BOOTSTRAPPED_POOL_CIDR]}, **kwargs)

    def hex(self, length: int = 17) -> str:
        """Deterministic, never-repeating hex digits for ids and random suffixes."""
        with self._lock:
            n = next(self._counter)
        return hashlib.sha256(f"{self.account_id}/{n}".encode()).hexdigest()[:length]

    def arn(self, service: str, resource: str) -> str:
        region = "" if service in GLOBAL_SERVICES else self.region
        account = "" if service in ACCOUNTLESS_SERVICES else self.account_id
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def add_ipam(self, ipam_id: str) -> None:
        with self._lock:
            if len(self.ipams) >= self.ipam_quota:
                raise AwsRefusal(
                    f"account {self.account_id} already has {len(self.ipams)} IPAM(s) "
                    f"({', '.join(self.ipams)}); the quota is {self.ipam_quota} per Region, not "
                    "adjustable ('Quotas for your IPAM'). Take an existing pool instead.")
            self.ipams.append(ipam_id)

    def provision(self, pool_id: str, cidr: str) -> None:
        with self._lock:
            if pool_id not in self.ipam_pools:
                raise AwsRefusal(f"IPAM pool {pool_id} does not exist in account "
                                 f"{self.account_id}")
            self.ipam_pools[pool_id].append(cidr)

    def allocate(self, pool_id: str, netmask: int, what: str) -> ipaddress.IPv4Network:
        """The first free /netmask of the pool's provisioned CIDRs, as IPAM allocates."""
        with self._lock:
            if pool_id not in self.ipam_pools:
                raise AwsRefusal(f"{what}: IPAM pool {pool_id} does not exist in account "
                                 f"{self.account_id} region {self.region}")
            taken = self.allocations.setdefault(pool_id, [])
            for cidr in map(ipaddress.ip_network, self.ipam_pools[pool_id]):
                if netmask < cidr.prefixlen:
                    continue
                for candidate in cidr.subnets(new_prefix=netmask):
                    if not any(candidate.overlaps(t) for t in taken):
                        taken.append(candidate)
                        return candidate
            raise AwsRefusal(f"{what}: IPAM pool {pool_id} ({self.ipam_pools[pool_id]}) has "
                             f"no free /{netmask} left")

    def add_vpc(self, vpc_id: str, cidr: ipaddress.IPv4Network) -> None:
        _check_netmask(f"VPC {vpc_id}", cidr)
        with self._lock:
            self.vpc_cidrs[vpc_id] = cidr

    def add_subnet(self, vpc_id: str, cidr: ipaddress.IPv4Network) -> None:
        _check_netmask(f"subnet {cidr} of {vpc_id}", cidr)
        with self._lock:
            vpc = self.vpc_cidrs.get(vpc_id)
            if vpc is None:
                raise AwsRefusal(f"subnet {cidr}: VPC {vpc_id} does not exist")
            if not cidr.subnet_of(vpc):
                raise AwsRefusal(f"subnet {cidr} is not within the CIDR {vpc} of {vpc_id}")
            siblings = self.subnet_cidrs.setdefault(vpc_id, [])
            clash = next((s for s in siblings if s.overlaps(cidr)), None)
            if clash is not None:
                raise AwsRefusal(f"subnet {cidr} conflicts with subnet {clash} of {vpc_id}")
            siblings.append(cidr)


def _check_netmask(what: str, cidr: ipaddress.IPv4Network) -> None:
    if cidr.prefixlen not in VPC_NETMASKS:
        raise AwsRefusal(f"{what}: /{cidr.prefixlen} is outside /16-/28 (Amazon VPC guide, "
                         "'Subnet CIDR blocks')")
