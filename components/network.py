"""Private VPC from an existing IPAM pool: no NAT, public subnets only for the load balancer, VPC
endpoints.

The VPC's CIDR is allocated from an IPAM pool the stack is given (`ipam_pool_id`): an account
can create one IPAM ("Create an IPAM", Amazon VPC IPAM guide,
https://docs.aws.amazon.com/vpc/latest/ipam/create-ipam.html), so the IPAM and its pools are
created once per account by bootstrap/ipam (or by an organisation's delegated IPAM admin), never
by an application stack. Subnet CIDRs are cut from the VPC's allocated CIDR in the program
(`subnet_cidr`), not allocated one by one from a subnet pool: that is slower, hits IPAM's
concurrent-mutation errors, and fails on destroy while IPAM still releases the allocations.

Layout (`subnet_block`): private subnets fill the VPC's blocks from the bottom (AZ i at block i),
public ones from the top (AZ i at the last block minus i). A subnet's CIDR depends only on its
tier and AZ index, never on how many AZs there are, so adding or removing an AZ never moves an
existing subnet: EC2 refuses a subnet that overlaps one that still exists (CreateSubnet,
InvalidSubnet.Conflict), and Pulumi creates a replacement before it deletes the original. The two
ends meet only when the VPC is full (2 x AZs blocks: the settings' subnets_fit_the_vpc rule).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.access_rules import S3, endpoint_access_rules, slug

# What every Fargate service needs: image pulls (ecr.api, ecr.dkr) and logs.
FARGATE_ENDPOINTS: tuple[str, ...] = ("ecr.api", "ecr.dkr", "logs")
# What the MSK event source mapping (sts, lambda) and the consumer's failure queue (sqs) need.
KAFKA_ENDPOINTS: tuple[str, ...] = ("sts", "lambda", "sqs")


def subnet_cidr(vpc_cidr: str, netmask_length: int, index: int) -> str:
    """The `index`-th /netmask_length block of the VPC's CIDR (subnets never overlap)."""
    vpc = ipaddress.ip_network(vpc_cidr)
    blocks = 2 ** (netmask_length - vpc.prefixlen) if netmask_length >= vpc.prefixlen else 0
    if not 0 <= index < blocks:
        raise ValueError(f"subnet {index} of /{netmask_length} does not fit the VPC {vpc_cidr} "
                         f"({blocks} such subnets fit)")
    size = 2 ** (vpc.max_prefixlen - netmask_length)
    return str(ipaddress.ip_network((int(vpc.network_address) + index * size, netmask_length)))


def subnet_blocks(vpc_netmask_length: int, subnet_netmask_length: int) -> int:
    """How many /subnet_netmask_length blocks a /vpc_netmask_length VPC holds."""
    return 2 ** max(subnet_netmask_length - vpc_netmask_length, 0)


def subnet_block(tier: str, index: int, blocks: int) -> int:
    """The block of the AZ `index` subnet of `tier`: private from the bottom, public from the
    top, so neither depends on the AZ count (see the module docstring)."""
    return index if tier == "private" else blocks - 1 - index


@dataclass
class NetworkArgs:
    ipam_pool_id: pulumi.Input[str]
    """An existing IPAM pool (bootstrap/ipam's output, or a delegated IPAM admin's shared
    pool) the VPC's CIDR is allocated from. The network creates no IPAM."""
    vpc_netmask_length: int = 21
    """Netmask of the VPC CIDR IPAM allocates."""
    subnet_netmask_length: int = 24
    """Netmask of each subnet (one private and one public per AZ)."""
    availability_zone_count: int = 2
    """AZs to spread over; the ALB and MSK need at least two. Changing it keeps every existing
    subnet's CIDR (see the layout above); it does replace the MSK Serverless cluster, whose
    subnets cannot change in place."""
    interface_endpoints: Sequence[str] = FARGATE_ENDPOINTS
    """Short service names (e.g. "ecr.api", "logs", "sts") of the interface endpoints."""

    def __post_init__(self) -> None:
        blocks = subnet_blocks(self.vpc_netmask_length, self.subnet_netmask_length)
        if 2 * self.availability_zone_count > blocks:
            raise ValueError(
                f"invalid NetworkArgs: {self.availability_zone_count} AZs need "
                f"{2 * self.availability_zone_count} subnets of /{self.subnet_netmask_length}; "
                f"a /{self.vpc_netmask_length} VPC holds {blocks}")


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    """The VPC's id."""
    vpc_cidr: pulumi.Output[str]
    """The CIDR block IPAM allocated."""
    private_subnet_ids: pulumi.Output[list[str]]
    """One private subnet per AZ."""
    public_subnet_ids: pulumi.Output[list[str]]
    """One public subnet per AZ (for the load balancer)."""
    private_route_table_id: pulumi.Output[str]
    """The private subnets' route table (local routes and the S3 gateway only)."""
    s3_prefix_list_id: pulumi.Output[str]
    """Prefix list of the S3 gateway endpoint."""
    endpoint_security_group_ids: dict[str, pulumi.Output[str]]
    """Security group of each interface endpoint, by short service name."""

    def __init__(self, name: str, args: NetworkArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("event-pipeline:network:Network", name, None, opts)
        self._name, self._args = name, args
        invoke = pulumi.InvokeOptions(parent=self)  # inherits this component's provider/region
        self._region = aws.get_region_output(opts=invoke).region

        vpc = self._vpc()
        private_subnets, public_subnets = self._subnets(vpc)
        private_routes = self._routing(vpc, private_subnets, public_subnets)
        s3 = self._endpoints(vpc, private_subnets, private_routes)

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private_subnets])
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public_subnets])
        self.private_route_table_id = private_routes.id
        self.s3_prefix_list_id = s3.prefix_list_id
        self.endpoint_security_group_ids = {
            endpoint: sg.id for endpoint, sg in self._endpoint_sgs.items()
        }
        self.register_outputs({
            "vpc_id": self.vpc_id,
            "vpc_cidr": self.vpc_cidr,
            "private_subnet_ids": self.private_subnet_ids,
            "public_subnet_ids": self.public_subnet_ids,
            "private_route_table_id": self.private_route_table_id,
            "s3_prefix_list_id": self.s3_prefix_list_id,
            "endpoint_security_group_ids": self.endpoint_security_group_ids,
        })

    def _child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _vpc(self) -> aws.ec2.Vpc:
        """The VPC, its CIDR allocated from the account's IPAM pool."""
        return aws.ec2.Vpc(
            f"{self._name}-vpc",
            ipv4_ipam_pool_id=self._args.ipam_pool_id,
            ipv4_netmask_length=self._args.vpc_netmask_length,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # interface endpoints' private DNS needs both
            tags={"Name": self._name},
            opts=self._child(),
        )

    def _zones(self) -> pulumi.Output[list[str]]:
        """The first availability_zone_count usable AZs of the region (one lookup)."""
        zones = aws.get_availability_zones_output(
            state="available",
            # Local/Wavelength zones cannot host MSK or an ALB pair.
            filters=[aws.GetAvailabilityZonesFilterArgs(
                name="opt-in-status", values=["opt-in-not-required"])],
            opts=pulumi.InvokeOptions(parent=self),
        ).names
        count, name = self._args.availability_zone_count, self._name

        def pick(names: list[str]) -> list[str]:
            if len(names) < count:
                raise ValueError(f"{name}: the region has {len(names)} usable AZs, "
                                 f"availability_zone_count is {count}")
            return names[:count]

        return zones.apply(pick)

    def _subnets(self, vpc: aws.ec2.Vpc) -> tuple[list[aws.ec2.Subnet], list[aws.ec2.Subnet]]:
        """One private and one public subnet per AZ, cut from the VPC's CIDR: private subnets
        take its first blocks, public ones its last (`subnet_block`)."""
        name, args = self._name, self._args
        count = args.availability_zone_count
        blocks = subnet_blocks(args.vpc_netmask_length, args.subnet_netmask_length)
        zones = self._zones()

        def subnet(kind: str, index: int) -> aws.ec2.Subnet:
            block = subnet_block(kind, index, blocks)
            return aws.ec2.Subnet(
                f"{name}-{kind}-{index}",
                vpc_id=vpc.id,
                availability_zone=zones.apply(lambda names: names[index]),
                cidr_block=vpc.cidr_block.apply(
                    lambda cidr: subnet_cidr(cidr, args.subnet_netmask_length, block)),
                map_public_ip_on_launch=False,  # nothing here gets a public IP by default
                tags={"Name": f"{name}-{kind}-{index}", "tier": kind},
                # AWS frees a VPC Lambda's (and an MSK mapping's) network interfaces up to ~40
                # minutes after they are deleted; until then the subnet cannot be deleted, so
                # the delete waits instead of failing the destroy.
                opts=self._child(custom_timeouts=pulumi.CustomTimeouts(delete="45m")),
            )

        return ([subnet("private", i) for i in range(count)],
                [subnet("public", i) for i in range(count)])

    def _routing(self, vpc: aws.ec2.Vpc, private_subnets: list[aws.ec2.Subnet],
                 public_subnets: list[aws.ec2.Subnet]) -> aws.ec2.RouteTable:
        """Public subnets route to the internet gateway; private ones stay local (no NAT, no
        default route). Returns the private route table (the S3 gateway endpoint's)."""
        name, child = self._name, self._child()
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags={"Name": f"{name}-public"}, opts=child
        )
        aws.ec2.Route(
            f"{name}-public-default-route", route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0", gateway_id=igw.id, opts=child,
        )
        private_routes = aws.ec2.RouteTable(
            f"{name}-private-rt", vpc_id=vpc.id, tags={"Name": f"{name}-private"}, opts=child
        )
        for kind, subnets, table in (("private", private_subnets, private_routes),
                                     ("public", public_subnets, public_routes)):
            for index, sub in enumerate(subnets):
                aws.ec2.RouteTableAssociation(
                    f"{name}-{kind}-rta-{index}", subnet_id=sub.id, route_table_id=table.id,
                    opts=child,
                )
        # Managing the default SG with no rules strips AWS's allow-all defaults.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, opts=child)
        return private_routes

    def _endpoints(self, vpc: aws.ec2.Vpc, private_subnets: list[aws.ec2.Subnet],
                   private_routes: aws.ec2.RouteTable) -> aws.ec2.VpcEndpoint:
        """The S3 gateway endpoint (returned) and one interface endpoint per service, each with
        its own security group that admits registered clients only."""
        name, region, child = self._name, self._region, self._child()
        s3 = aws.ec2.VpcEndpoint(
            f"{name}-s3-endpoint",
            vpc_id=vpc.id,
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[private_routes.id],
            opts=child,
        )
        self._endpoint_sgs: dict[str, aws.ec2.SecurityGroup] = {}
        for endpoint in dict.fromkeys(self._args.interface_endpoints):  # de-duplicated, in order
            security_group = aws.ec2.SecurityGroup(
                f"{name}-{slug(endpoint)}-endpoint-sg",
                vpc_id=vpc.id,
                description=f"{endpoint} interface endpoint: HTTPS from registered clients only",
                # No egress: the endpoint only answers; replies are allowed statefully.
                opts=child,
            )
            aws.ec2.VpcEndpoint(
                f"{name}-{slug(endpoint)}-endpoint",
                vpc_id=vpc.id,
                service_name=pulumi.Output.concat("com.amazonaws.", region, ".", endpoint),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in private_subnets],
                security_group_ids=[security_group.id],
                opts=child,
            )
            self._endpoint_sgs[endpoint] = security_group
        return s3

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The interface endpoints this network has, plus the S3 gateway endpoint."""
        return (*self._endpoint_sgs, S3)

    def allow_endpoint_access(
        self, name: str, endpoint: str, client_security_group_id: pulumi.Input[str], *,
        parent: pulumi.Resource | None = None,
    ) -> list[pulumi.CustomResource]:
        """Let security group X reach endpoint Y on 443: the endpoint's ingress from X and X's
        egress to the endpoint (client groups have no egress by default). For "s3" (the gateway
        endpoint) only the client's egress to the S3 prefix list is needed.

        `parent`: the calling component, which the rules belong to (they come and go with it);
        the alias keeps rules created before they were parented to the caller."""
        if endpoint not in self.endpoints:
            raise ValueError(
                f"network {self._name!r} has no {endpoint!r} endpoint; it has "
                f"{', '.join(sorted(self.endpoints))}"
            )
        opts = pulumi.ResourceOptions(parent=parent or self,
                                      aliases=[pulumi.Alias(parent=self)] if parent else None)
        return endpoint_access_rules(
            self._name, name, endpoint, client_security_group_id,
            endpoint_security_group_id=(None if endpoint == S3
                                        else self._endpoint_sgs[endpoint].id),
            s3_prefix_list_id=self.s3_prefix_list_id, opts=opts)
