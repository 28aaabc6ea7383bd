"""The account's one IPAM with a private-scope IPv4 pool per region.

"You can only create one IPAM" ("Create an IPAM", Amazon VPC IPAM guide,
https://docs.aws.amazon.com/vpc/latest/ipam/create-ipam.html; more only by a quota increase,
"Quotas for your IPAM"): so it is created here, once per account, and never by an application
stack. Pools of every region live in the IPAM's home region; a pool's locale is the region
whose VPCs may allocate from it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass
class AccountIpamArgs:
    pools: Mapping[str, str]
    """Region -> IPv4 CIDR provisioned to that region's pool."""
    home_region: str
    """The region the IPAM is created in (the stack's aws:region); always an operating region."""
    vpc_netmask_range: tuple[int, int] = (16, 28)
    """Netmask lengths a VPC may ask of a pool: AWS's VPC range ("Subnet CIDR blocks")."""


class AccountIpam(pulumi.ComponentResource):
    ipam_id: pulumi.Output[str]
    pool_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: AccountIpamArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("event-pipeline:ipam:AccountIpam", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        regions = list(dict.fromkeys([args.home_region, *args.pools]))
        ipam = aws.ec2.VpcIpam(
            f"{name}-ipam",
            description=f"{name}: the account's IPAM (event-pipeline bootstrap/ipam)",
            operating_regions=[aws.ec2.VpcIpamOperatingRegionArgs(region_name=r)
                               for r in regions],
            # Private-scope pools and allocations are Advanced-tier features.
            tier="advanced",
            # `pulumi destroy` (after every application stack is gone) deletes the IPAM even if
            # AWS still lists an allocation it releases asynchronously.
            cascade=True,
            opts=child,
        )
        self.pool_ids = {}
        for region, cidr in args.pools.items():
            pool = aws.ec2.VpcIpamPool(
                f"{name}-{region}-pool",
                address_family="ipv4",
                ipam_scope_id=ipam.private_default_scope_id,
                locale=region,
                # No VPC can be bigger than the pool itself.
                allocation_min_netmask_length=max(args.vpc_netmask_range[0],
                                                  ipaddress.ip_network(cidr).prefixlen),
                allocation_max_netmask_length=args.vpc_netmask_range[1],
                description=f"{name}: VPC CIDRs in {region}",
                opts=child,
            )
            # VPCs allocate only once the pool has its CIDR (provisioning can take minutes).
            aws.ec2.VpcIpamPoolCidr(f"{name}-{region}-pool-cidr", ipam_pool_id=pool.id,
                                    cidr=cidr, opts=child)
            self.pool_ids[region] = pool.id
        self.ipam_id = ipam.id
        self.register_outputs({"ipam_id": self.ipam_id, "pool_ids": self.pool_ids})
