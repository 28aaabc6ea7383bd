"""IPAM-backed private VPC: no NAT, public subnets only for the load balancer, VPC endpoints.

Every CIDR comes from AWS IPAM in one `pulumi up`: the VPC is allocated from a private-scope
pool, and the subnets from a resource-planning pool over the VPC's CIDR (AWS's mechanism for
IPAM-allocated subnets). Outputs chain the steps, so no targeted two-stage apply is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# What every Fargate service needs: image pulls (ecr.api, ecr.dkr) and logs.
FARGATE_ENDPOINTS: tuple[str, ...] = ("ecr.api", "ecr.dkr", "logs")
# What the MSK event source mapping (sts, lambda) and the consumer's failure queue (sqs) need.
KAFKA_ENDPOINTS: tuple[str, ...] = ("sts", "lambda", "sqs")
S3 = "s3"  # the gateway endpoint; reached through its prefix list, not a security group
HTTPS = 443


@dataclass
class NetworkArgs:
    ipam_pool_cidr: str = "10.11.0.0/20"
    """CIDR provisioned to the IPAM pool; the VPC's CIDR is allocated from it."""
    vpc_netmask_length: int = 21
    """Netmask of the VPC CIDR IPAM allocates."""
    subnet_netmask_length: int = 24
    """Netmask of each subnet (one private and one public per AZ)."""
    availability_zone_count: int = 2
    """AZs to spread over; the ALB and MSK need at least two."""
    interface_endpoints: Sequence[str] = FARGATE_ENDPOINTS
    """Short service names (e.g. "ecr.api", "logs", "sts") of the interface endpoints."""


def _slug(endpoint: str) -> str:
    return endpoint.replace(".", "-")


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]
    private_route_table_id: pulumi.Output[str]
    s3_prefix_list_id: pulumi.Output[str]
    endpoint_security_group_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("event-pipeline:network:Network", name, None, opts)
        args = args or NetworkArgs()
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)  # inherits this component's provider/region
        region = aws.get_region_output(opts=invoke).region
        account_id = aws.get_caller_identity_output(opts=invoke).account_id

        # --- IPAM: pool -> VPC -> resource-planning pool -> subnets -------------------------
        ipam = aws.ec2.VpcIpam(
            f"{name}-ipam",
            description=f"{name}: IP address management for the pipeline VPC",
            operating_regions=[aws.ec2.VpcIpamOperatingRegionArgs(region_name=region)],
            # Private-scope pools and allocations are Advanced-tier features.
            tier="advanced",
            # Lets `pulumi destroy` delete the IPAM even if AWS still lists an allocation it
            # releases asynchronously after the VPC is gone.
            cascade=True,
            opts=child,
        )
        pool = aws.ec2.VpcIpamPool(
            f"{name}-pool",
            address_family="ipv4",
            ipam_scope_id=ipam.private_default_scope_id,
            locale=region,
            description=f"{name}: VPC CIDRs",
            opts=child,
        )
        pool_cidr = aws.ec2.VpcIpamPoolCidr(
            f"{name}-pool-cidr", ipam_pool_id=pool.id, cidr=args.ipam_pool_cidr, opts=child
        )
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            ipv4_ipam_pool_id=pool.id,
            ipv4_netmask_length=args.vpc_netmask_length,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # interface endpoints' private DNS needs both
            tags={"Name": name},
            # depends_on: the pool must have its CIDR before allocating, and on destroy the VPC
            # (its allocation) goes before the CIDR is deprovisioned.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[pool_cidr]),
        )
        subnet_pool = aws.ec2.VpcIpamPool(
            f"{name}-subnet-pool",
            address_family="ipv4",
            ipam_scope_id=ipam.private_default_scope_id,
            locale=region,
            source_ipam_pool_id=pool.id,
            source_resource=aws.ec2.VpcIpamPoolSourceResourceArgs(
                resource_id=vpc.id, resource_owner=account_id, resource_region=region,
                resource_type="vpc",
            ),
            description=f"{name}: subnet CIDRs inside the VPC",
            opts=child,
        )
        subnet_pool_cidr = aws.ec2.VpcIpamPoolCidr(
            f"{name}-subnet-pool-cidr", ipam_pool_id=subnet_pool.id, cidr=vpc.cidr_block,
            opts=child,
        )

        zones = aws.get_availability_zones_output(
            state="available",
            # Local/Wavelength zones cannot host MSK or an ALB pair.
            filters=[aws.GetAvailabilityZonesFilterArgs(
                name="opt-in-status", values=["opt-in-not-required"])],
            opts=invoke,
        ).names
        count = args.availability_zone_count

        def zone(index: int) -> pulumi.Output[str]:
            def pick(names: list[str]) -> str:
                if len(names) < count:
                    raise ValueError(f"{name}: the region has {len(names)} usable AZs, "
                                     f"availability_zone_count is {count}")
                return names[index]

            return zones.apply(pick)

        def subnet(kind: str, index: int) -> aws.ec2.Subnet:
            return aws.ec2.Subnet(
                f"{name}-{kind}-{index}",
                vpc_id=vpc.id,
                availability_zone=zone(index),
                ipv4_ipam_pool_id=subnet_pool.id,
                ipv4_netmask_length=args.subnet_netmask_length,
                map_public_ip_on_launch=False,  # nothing here gets a public IP by default
                tags={"Name": f"{name}-{kind}-{index}", "tier": kind},
                # Allocation needs the pool's CIDR; on destroy, subnets go before it. AWS frees
                # a VPC Lambda's (and an MSK mapping's) network interfaces up to ~40 minutes
                # after they are deleted; until then the subnet cannot be deleted, so the delete
                # waits instead of failing the destroy.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[subnet_pool_cidr],
                                            custom_timeouts=pulumi.CustomTimeouts(delete="45m")),
            )

        private_subnets = [subnet("private", i) for i in range(count)]
        public_subnets = [subnet("public", i) for i in range(count)]

        # --- routing: public -> IGW; private: local only (no NAT, no default route) ----------
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

        # --- endpoints --------------------------------------------------------------------
        s3 = aws.ec2.VpcEndpoint(
            f"{name}-s3-endpoint",
            vpc_id=vpc.id,
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[private_routes.id],
            opts=child,
        )
        private_subnet_ids = [s.id for s in private_subnets]
        self._endpoint_sgs: dict[str, aws.ec2.SecurityGroup] = {}
        for endpoint in dict.fromkeys(args.interface_endpoints):  # de-duplicated, in order
            security_group = aws.ec2.SecurityGroup(
                f"{name}-{_slug(endpoint)}-endpoint-sg",
                vpc_id=vpc.id,
                description=f"{endpoint} interface endpoint: HTTPS from registered clients only",
                # No egress: the endpoint only answers; replies are allowed statefully.
                opts=child,
            )
            aws.ec2.VpcEndpoint(
                f"{name}-{_slug(endpoint)}-endpoint",
                vpc_id=vpc.id,
                service_name=pulumi.Output.concat("com.amazonaws.", region, ".", endpoint),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=private_subnet_ids,
                security_group_ids=[security_group.id],
                opts=child,
            )
            self._endpoint_sgs[endpoint] = security_group

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.private_subnet_ids = pulumi.Output.all(*private_subnet_ids)
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
        prefix = f"{self._name}-{name}-{_slug(endpoint)}"
        if endpoint == S3:
            return [aws.vpc.SecurityGroupEgressRule(
                f"{prefix}-egress", security_group_id=client_security_group_id,
                prefix_list_id=self.s3_prefix_list_id, ip_protocol="tcp",
                from_port=HTTPS, to_port=HTTPS, description=f"{name}: S3 via gateway endpoint",
                opts=opts,
            )]
        endpoint_sg = self._endpoint_sgs[endpoint].id
        return [
            aws.vpc.SecurityGroupIngressRule(
                f"{prefix}-ingress", security_group_id=endpoint_sg,
                referenced_security_group_id=client_security_group_id, ip_protocol="tcp",
                from_port=HTTPS, to_port=HTTPS, description=f"{name}: HTTPS to {endpoint}",
                opts=opts,
            ),
            aws.vpc.SecurityGroupEgressRule(
                f"{prefix}-egress", security_group_id=client_security_group_id,
                referenced_security_group_id=endpoint_sg, ip_protocol="tcp",
                from_port=HTTPS, to_port=HTTPS, description=f"{name}: HTTPS to {endpoint}",
                opts=opts,
            ),
        ]
