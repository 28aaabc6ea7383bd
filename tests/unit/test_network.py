"""The VPC under Pulumi mocks: its CIDR from an existing IPAM pool, subnets cut from it, no IPAM,
no NAT, locked-down endpoints."""

from __future__ import annotations

import ipaddress

import pulumi
import pytest

from components.network import (
    FARGATE_ENDPOINTS,
    KAFKA_ENDPOINTS,
    Network,
    NetworkArgs,
    subnet_cidr,
)
from testing.pulumi_harness import (
    BOOTSTRAPPED_POOL_CIDR,
    BOOTSTRAPPED_POOL_ID,
    REGION,
    AwsAccount,
    AwsRefusal,
    PulumiRun,
    run_program,
)

NETWORK = "event-pipeline:network:Network"
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE = "aws:ec2/route:Route"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
CLIENT_SG = "sg-0client0000000001"


def args(**overrides) -> NetworkArgs:
    return NetworkArgs(ipam_pool_id=BOOTSTRAPPED_POOL_ID, **overrides)


def build(network_args: NetworkArgs | None = None, *, clients: dict[str, str] | None = None):
    def program():
        network = Network("net", network_args or args())
        for endpoint in (clients or {}):
            network.allow_endpoint_access("api", endpoint, clients[endpoint])
        return network

    return program


@pytest.fixture(scope="module")
def run() -> PulumiRun:
    everything = (*FARGATE_ENDPOINTS, *KAFKA_ENDPOINTS)
    return run_program(build(
        args(availability_zone_count=3, interface_endpoints=everything),
        clients={e: CLIENT_SG for e in (*everything, "s3")},
    ))


def test_the_network_creates_no_ipam_and_no_pool(run):
    assert not [r for r in run.resources if "Ipam" in r.type]


def test_the_vpc_cidr_is_allocated_from_the_given_pool(run):
    vpc = run.one(VPC)
    assert vpc.inputs["ipv4IpamPoolId"] == BOOTSTRAPPED_POOL_ID
    assert vpc.inputs["ipv4NetmaskLength"] == 21
    assert "cidrBlock" not in vpc.inputs  # never a hard-coded string
    cidr = ipaddress.ip_network(vpc.outputs["cidrBlock"])
    assert cidr.prefixlen == 21 and cidr.subnet_of(ipaddress.ip_network(BOOTSTRAPPED_POOL_CIDR))
    assert vpc.inputs["enableDnsHostnames"] is True and vpc.inputs["enableDnsSupport"] is True


def test_subnets_are_cut_from_the_vpc_cidr_without_overlap(run):
    vpc = ipaddress.ip_network(run.one(VPC).outputs["cidrBlock"])
    subnets = run.of_type(SUBNET)
    cidrs = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in subnets]
    assert all(c.prefixlen == 24 and c.subnet_of(vpc) for c in cidrs)
    assert len(set(cidrs)) == len(cidrs) == 6
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:])
    for subnet in subnets:
        assert "ipv4IpamPoolId" not in subnet.inputs  # no allocation per subnet
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
        assert run.one(VPC).urn in subnet.dependencies  # deleted before the VPC


@pytest.mark.parametrize(("vpc", "mask", "index", "expected"), [
    ("10.11.0.0/21", 24, 0, "10.11.0.0/24"),
    ("10.11.0.0/21", 24, 5, "10.11.5.0/24"),
    ("10.11.8.0/24", 27, 7, "10.11.8.224/27"),
])
def test_subnet_cidr_is_the_nth_block_of_the_vpc(vpc, mask, index, expected):
    assert subnet_cidr(vpc, mask, index) == expected


@pytest.mark.parametrize(("vpc", "mask", "index"), [
    ("10.11.0.0/24", 26, 4),   # a /24 holds four /26
    ("10.11.0.0/24", 23, 0),   # bigger than the VPC
    ("10.11.0.0/24", 26, -1),
])
def test_subnet_cidr_refuses_what_does_not_fit(vpc, mask, index):
    with pytest.raises(ValueError, match="does not fit the VPC"):
        subnet_cidr(vpc, mask, index)


def test_a_pool_the_account_lacks_is_refused_as_aws_would():
    with pytest.raises(AwsRefusal, match="IPAM pool ipam-pool-00000000deadbeef0 does not exist"):
        run_program(build(NetworkArgs(ipam_pool_id="ipam-pool-00000000deadbeef0")))


def test_one_private_and_one_public_subnet_per_az(run):
    subnets = run.of_type(SUBNET)
    private = [s for s in subnets if s.inputs["tags"]["tier"] == "private"]
    public = [s for s in subnets if s.inputs["tags"]["tier"] == "public"]
    assert len(private) == len(public) == 3
    for group in (private, public):
        assert sorted(s.inputs["availabilityZone"] for s in group) == [
            f"{REGION}a", f"{REGION}b", f"{REGION}c"]


def test_no_nat_and_no_default_route_from_private_subnets(run):
    assert not any("natGateway" in r.type for r in run.resources)
    private_rt = run.one(ROUTE_TABLE, "net-private-rt")
    assert not private_rt.inputs.get("routes")
    assert [r for r in run.of_type(ROUTE) if r.inputs["routeTableId"] == private_rt.id] == []
    private_ids = {s.id for s in run.of_type(SUBNET) if s.inputs["tags"]["tier"] == "private"}
    for association in run.of_type(ASSOCIATION):
        if association.inputs["subnetId"] in private_ids:
            assert association.inputs["routeTableId"] == private_rt.id


def test_public_subnets_route_to_the_internet_gateway(run):
    public_rt = run.one(ROUTE_TABLE, "net-public-rt")
    route = run.one(ROUTE)
    assert route.inputs["routeTableId"] == public_rt.id
    assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
    assert route.inputs["gatewayId"] == run.one("aws:ec2/internetGateway:InternetGateway").id
    public_ids = {s.id for s in run.of_type(SUBNET) if s.inputs["tags"]["tier"] == "public"}
    assert {a.inputs["subnetId"] for a in run.of_type(ASSOCIATION)
            if a.inputs["routeTableId"] == public_rt.id} == public_ids


def test_the_default_security_group_has_no_rules(run):
    default = run.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs["vpcId"] == run.one(VPC).id
    assert not default.inputs.get("ingress") and not default.inputs.get("egress")


def test_s3_gateway_endpoint_on_the_private_route_table(run):
    s3 = next(e for e in run.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway")
    assert s3.inputs["serviceName"] == f"com.amazonaws.{REGION}.s3"
    assert s3.inputs["routeTableIds"] == [run.one(ROUTE_TABLE, "net-private-rt").id]


def test_interface_endpoints_have_private_dns_and_their_own_security_group(run):
    interface = [e for e in run.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]
    expected = (*FARGATE_ENDPOINTS, *KAFKA_ENDPOINTS)
    assert sorted(e.inputs["serviceName"] for e in interface) == sorted(
        f"com.amazonaws.{REGION}.{name}" for name in expected)
    private_ids = sorted(s.id for s in run.of_type(SUBNET) if s.inputs["tags"]["tier"] == "private")
    groups = [e.inputs["securityGroupIds"] for e in interface]
    assert all(len(g) == 1 for g in groups) and len({g[0] for g in groups}) == len(interface)
    for endpoint in interface:
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert sorted(endpoint.inputs["subnetIds"]) == private_ids
        sg = run.by_id(endpoint.inputs["securityGroupIds"][0])
        assert not sg.inputs.get("ingress") and not sg.inputs.get("egress")


def test_endpoint_ingress_is_443_from_security_groups_only(run):
    endpoint_sgs = {sg.id for sg in run.of_type(SG)}
    rules = [r for r in run.of_type(INGRESS) if r.inputs["securityGroupId"] in endpoint_sgs]
    assert len(rules) == len(FARGATE_ENDPOINTS) + len(KAFKA_ENDPOINTS)
    for rule in rules:
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
            "tcp", 443, 443)
        assert rule.inputs["referencedSecurityGroupId"] == CLIENT_SG
        assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(rule.inputs)


def test_allow_endpoint_access_also_opens_the_clients_egress(run):
    egress = [r for r in run.of_type(EGRESS) if r.inputs["securityGroupId"] == CLIENT_SG]
    targets = {r.inputs.get("referencedSecurityGroupId") or r.inputs.get("prefixListId")
               for r in egress}
    s3 = next(e for e in run.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway")
    assert s3.outputs["prefixListId"] in targets  # S3: to the gateway's prefix list
    assert {sg.id for sg in run.of_type(SG)} <= targets
    assert all(r.inputs["fromPort"] == r.inputs["toPort"] == 443 for r in egress)
    assert not any("cidrIpv4" in r.inputs for r in egress)


def test_an_unknown_endpoint_is_a_clear_error():
    with pytest.raises(ValueError, match=r"no 'sqs' endpoint; it has ecr.api, ecr.dkr, logs, s3"):
        run_program(build(args(), clients={"sqs": CLIENT_SG}))


def test_every_child_is_parented_to_the_component_and_outputs_are_registered(run):
    network = run.one(NETWORK, "net")
    for resource in run.resources:
        if resource.urn != network.urn:
            assert resource.parent == network.urn, resource.name
    outputs = run.component_outputs[network.urn]
    assert outputs["vpc_id"] == run.one(VPC).id
    assert len(outputs["private_subnet_ids"]) == len(outputs["public_subnet_ids"]) == 3
    assert set(outputs["endpoint_security_group_ids"]) == {*FARGATE_ENDPOINTS, *KAFKA_ENDPOINTS}
    assert outputs["vpc_cidr"] == run.one(VPC).outputs["cidrBlock"]


def test_two_networks_live_in_one_stack():
    def program():
        Network("blue", args())
        Network("green", args(vpc_netmask_length=22, subnet_netmask_length=25))

    account = AwsAccount.bootstrapped()
    run = run_program(program, account=account)
    names = [r.name for r in run.resources]
    assert len(names) == len(set(names))
    assert len(run.of_type(VPC)) == 2 and len(run.of_type(SUBNET)) == 8
    for network in run.of_type(NETWORK):
        children = run.children_of(network.urn)
        assert children and all(c.name.startswith(f"{network.name}-") for c in children)
    # Physical names are left to auto-naming: no resource sets one.
    assert not any("name" in r.inputs for r in run.resources if r.custom)
    # Both VPCs got their own block of the one pool.
    blue, green = (ipaddress.ip_network(v.outputs["cidrBlock"]) for v in run.of_type(VPC))
    assert not blue.overlaps(green) and account.ipams == ["ipam-0b00757ab00757ab0"]


def test_network_args_defaults_are_the_documented_ones():
    defaults = args()
    assert (defaults.vpc_netmask_length, defaults.subnet_netmask_length,
            defaults.availability_zone_count) == (21, 24, 2)
    assert tuple(defaults.interface_endpoints) == FARGATE_ENDPOINTS
    assert issubclass(Network, pulumi.ComponentResource)
