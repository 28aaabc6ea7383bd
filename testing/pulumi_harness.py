"""Run a Pulumi program under mocks and record everything it registers.

The one harness behind the tests (tests/fixtures/pulumi_mocks.py wraps it in pytest fixtures),
the offline policy-pack run (testing/policy_run.py) and bench/program.py:

    run = run_program(lambda: Network("net", NetworkArgs(ipam_pool_id=POOL)), account=account)
    run.one("aws:ec2/vpc:Vpc").outputs["cidrBlock"]

What a custom resource gets back from `AwsMocks.new_resource`, and nothing more:

- its inputs, echoed into its state as the provider stores them;
- `id`, plus `arn` and `name` where the provider's Python class declares those outputs, all
  derived from the type token: `aws:sqs/queue:Queue` is service `sqs`, kind `queue`, ARN
  `arn:aws:sqs:REGION:ACCOUNT:NAME` (services whose ARNs are laid out differently are listed
  in ARN_LAYOUTS); `name` is Pulumi's auto-name (logical name + random suffix) unless set;
- SPECIAL_OUTPUTS: the few computed outputs the program really consumes (a VPC's CIDR, MSK's
  bootstrap brokers and cluster ARN, the pushed image's digest, ...), each with its reason.

Every other computed output stays unset, so a program that starts to rely on one fails here
instead of passing on an invented value. The account (`AwsAccount`) outlives a run: pass the
same one to several runs to deploy several stacks into one account and region; by default a run
deploys into `AwsAccount.bootstrapped()`, the account as bootstrap/ipam leaves it. It refuses what
AWS refuses and what settings or the policy pack must catch first: a second IPAM (1 per Region),
a VPC from an unknown or exhausted IPAM pool, a subnet outside its VPC, overlapping another
one, or outside /16-/28. Components have no provider outputs (multi-language ones, such as
pulumi-awsx's, are opaque under mocks). An invoke without an entry in INVOKE_RESULTS fails loudly.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import importlib
import inspect
import ipaddress
import itertools
import json
import re
import runpy
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
STACK_TYPE = "pulumi:pulumi:Stack"
# run_main: the file of the placeholder archive that stands for a built Lambda package.
PLACEHOLDER_FILE = "built-by-pip-into.txt"
# Pulumi's property wire format marks a secret with this signature key/value pair (shared by
# every language SDK: sdk/go/common/resource/sig). Mocks see secrets in that envelope.
SECRET_SIGNATURE = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")


# --- the account the stacks deploy into --------------------------------------------------------

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


# --- outputs derived from the type token -------------------------------------------------------

@dataclass(frozen=True)
class TypeToken:
    """`aws:sqs/queue:Queue` -> package aws, module sqs, kind queue, class Queue."""

    package: str
    module: str
    kind: str
    class_name: str

    @classmethod
    def parse(cls, token: str) -> TypeToken:
        package, middle, class_name = token.split(":")
        module, _, kind = middle.partition("/")
        return cls(package, module, kind or class_name[:1].lower() + class_name[1:], class_name)

    @property
    def short(self) -> str:
        """`sqs/queue`: the key of the tables below."""
        return f"{self.module}/{self.kind}"

    @property
    def service(self) -> str:
        """The service name in the type's ARNs."""
        return ARN_SERVICES.get(self.short, ARN_SERVICES.get(self.module, self.module))


# Modules whose ARNs name another service (the ARN's "service" field).
ARN_SERVICES = {
    "lb": "elasticloadbalancing", "msk": "kafka", "vpc": "ec2",
    "appautoscaling": "application-autoscaling", "cloudwatch/logGroup": "logs",
}
GLOBAL_SERVICES = {"iam", "s3", "route53"}  # no region in their ARNs
ACCOUNTLESS_SERVICES = {"s3"}  # bucket ARNs have no account either
# The resource part of an ARN where it is not "<kind in kebab case>/<name or id>".
ARN_LAYOUTS = {
    "sqs/queue": "{name}",
    "sns/topic": "{name}",
    "s3/bucket": "{name}",
    "s3/bucketV2": "{name}",
    "lambda/function": "function:{name}",
    "lambda/eventSourceMapping": "event-source-mapping:{id}",
    "cloudwatch/logGroup": "log-group:{name}",
    "cloudwatch/metricAlarm": "alarm:{name}",
    "ec2/vpcIpam": "ipam/{id}",
    "ec2/vpcIpamPool": "ipam-pool/{id}",
    "route53/zone": "hostedzone/{id}",
}
# The property Pulumi auto-names, where it is not `name`.
NAME_PROPERTIES = {"s3/bucket": "bucket", "s3/bucketV2": "bucket",
                   "msk/serverlessCluster": "clusterName"}
# EC2 ids are "<prefix>-<17 hex digits>"; the prefix cannot be derived from the type name.
EC2_ID_PREFIXES = {
    "ec2/vpc": "vpc", "ec2/subnet": "subnet", "ec2/securityGroup": "sg",
    "ec2/defaultSecurityGroup": "sg", "ec2/internetGateway": "igw", "ec2/routeTable": "rtb",
    "ec2/route": "r", "ec2/routeTableAssociation": "rtbassoc", "ec2/vpcEndpoint": "vpce",
    "ec2/vpcIpam": "ipam", "ec2/vpcIpamPool": "ipam-pool", "ec2/vpcIpamPoolCidr": "ipam-pool-cidr",
    "ec2/vpcIpamScope": "ipam-scope", "ec2/natGateway": "nat", "ec2/eip": "eipalloc",
    "ec2/networkAcl": "acl", "vpc/securityGroupIngressRule": "sgr",
    "vpc/securityGroupEgressRule": "sgr", "ec2/flowLog": "fl",
}
# Types whose provider id is their ARN (the others: their EC2 id, else their name).
ID_IS_ARN = {
    "ecs/cluster", "ecs/service", "lb/loadBalancer", "lb/targetGroup", "lb/listener",
    "msk/serverlessCluster", "sns/topic", "acm/certificate", "sns/topicSubscription",
}


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _kebab(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", camel).lower()


@functools.cache
def declared_outputs(token: str) -> frozenset[str]:
    """The camelCase outputs the provider SDK's class declares (its Python properties), or
    nothing if no class is installed for the token."""
    t = TypeToken.parse(token)
    package = f"pulumi_{t.package.replace('-', '_')}"
    module_name = package if t.module == "index" else f"{package}.{t.module}"
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        try:  # Python keywords get a trailing underscore (pulumi_aws.lambda_)
            module = importlib.import_module(f"{module_name}_")
        except ImportError:
            return frozenset()
    resource_class = getattr(module, t.class_name, None)
    if not inspect.isclass(resource_class):
        return frozenset()
    return frozenset(_camel(name) for name, _ in inspect.getmembers(
        resource_class, lambda member: isinstance(member, property)))


@dataclass
class MockResource:
    """What an output factory sees: the registration and its generic id, ARN and name."""

    token: TypeToken
    name: str  # logical name
    inputs: dict[str, Any]  # secrets revealed
    physical_name: str | None  # the set or auto-generated name, if the type has one
    id: str
    arn: str | None


def generic_outputs(token: str, name: str, inputs: Mapping[str, Any],
                    account: AwsAccount) -> MockResource:
    t = TypeToken.parse(token)
    declared = declared_outputs(token)
    name_property = NAME_PROPERTIES.get(t.short, "name")
    physical = None
    if name_property in declared:
        physical = inputs.get(name_property) or f"{name}-{account.hex(7)}"  # auto-naming
    if t.short in EC2_ID_PREFIXES:
        resource_id = f"{EC2_ID_PREFIXES[t.short]}-{account.hex()}"
    elif t.module in ("ec2", "vpc"):
        raise KeyError(f"{token}: add its EC2 id prefix to EC2_ID_PREFIXES "
                       "(testing/pulumi_harness.py)")
    else:
        resource_id = physical or f"{name}-{account.hex(8)}"
    arn = None
    if "arn" in declared:
        layout = ARN_LAYOUTS.get(t.short, _kebab(t.kind) + "/{name}")
        arn = account.arn(t.service, layout.format(name=physical or resource_id, id=resource_id))
        if t.short in ID_IS_ARN:
            resource_id = arn
    return MockResource(t, name, dict(inputs), physical, resource_id, arn)


# --- special cases: computed outputs the program consumes ---------------------------------------

OutputFactory = Callable[[MockResource, AwsAccount], dict[str, Any]]


def _ipam(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # The IPAM quota; the private scope is where VPC pools live.
    a.add_ipam(r.id)
    return {"privateDefaultScopeId": f"ipam-scope-{a.hex()}",
            "publicDefaultScopeId": f"ipam-scope-{a.hex()}", "scopeCount": 2}


def _ipam_pool(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # A new pool starts empty; VpcIpamPoolCidr provisions it.
    with a._lock:
        a.ipam_pools[r.id] = []
    return {"state": "create-complete"}


def _ipam_pool_cidr(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    a.provision(r.inputs["ipamPoolId"], r.inputs["cidr"])
    return {"id": f"{r.inputs['cidr']}_{r.inputs['ipamPoolId']}"}


def _cidr_of(r: MockResource, a: AwsAccount, what: str) -> ipaddress.IPv4Network:
    # A CIDR is either given or allocated by IPAM; a mock never makes one up.
    if r.inputs.get("cidrBlock"):
        return ipaddress.ip_network(r.inputs["cidrBlock"])
    if r.inputs.get("ipv4IpamPoolId") and r.inputs.get("ipv4NetmaskLength"):
        return a.allocate(r.inputs["ipv4IpamPoolId"], int(r.inputs["ipv4NetmaskLength"]), what)
    raise AwsRefusal(f"{what} {r.name}: neither cidrBlock nor an IPAM pool and netmask length")


def _vpc(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # Subnets, endpoints and the settings check derive from the VPC's real CIDR.
    cidr = _cidr_of(r, a, "VPC")
    a.add_vpc(r.id, cidr)
    return {"cidrBlock": str(cidr), "ownerId": a.account_id,
            "defaultSecurityGroupId": f"sg-{a.hex()}", "mainRouteTableId": f"rtb-{a.hex()}",
            "defaultRouteTableId": f"rtb-{a.hex()}", "defaultNetworkAclId": f"acl-{a.hex()}"}


def _subnet(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # The CIDR must fit the VPC and not overlap a sibling, as EC2 checks.
    cidr = _cidr_of(r, a, "subnet")
    a.add_subnet(r.inputs["vpcId"], cidr)
    return {"cidrBlock": str(cidr), "ownerId": a.account_id}


def _vpc_endpoint(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # Clients of a gateway endpoint reach it through its prefix list.
    if r.inputs.get("vpcEndpointType") == "Gateway":
        return {"prefixListId": f"pl-{a.hex(8)}", "state": "available"}
    return {"state": "available"}


def _msk_serverless(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # The topic and group ARNs in IAM policies are built from the cluster ARN's name and UUID
    # ("IAM access control", MSK guide); clients need the SASL/IAM bootstrap string.
    uuid = f"{a.hex(8)}-{a.hex(4)}-{a.hex(4)}-{a.hex(4)}-{a.hex(12)}-s1"
    arn = a.arn("kafka", f"cluster/{r.physical_name}/{uuid}")
    return {"id": arn, "arn": arn, "clusterUuid": uuid,
            "bootstrapBrokersSaslIam":
                f"boot-{a.hex(8)}.c1.kafka-serverless.{a.region}.amazonaws.com:9098"}


def _ecr_repository(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # The image is tagged and pushed by URL; the registry id asks for the push credentials.
    return {"registryId": a.account_id,
            "repositoryUrl": f"{a.account_id}.dkr.ecr.{a.region}.amazonaws.com/"
                             f"{r.physical_name}"}


def _docker_image(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # Tasks run the pushed digest; it is a function of what was built.
    image = r.inputs["imageName"]
    repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    digest = "sha256:" + hashlib.sha256(image.encode()).hexdigest()
    return {"id": f"{image}-{digest}", "repoDigest": f"{repository}@{digest}",
            "baseImageName": image}


def _build_image(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # Tasks run the pushed digest (pulumi-docker-build pushes by digest): a function of the build.
    inputs = json.dumps({k: r.inputs.get(k) for k in ("context", "dockerfile", "buildArgs",
                                                         "platforms")}, sort_keys=True)
    digest = "sha256:" + hashlib.sha256(inputs.encode()).hexdigest()
    return {"digest": digest, "contextHash": digest[7:23], "ref": ""}


def _certificate(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # DNS validation: ACM names the CNAME to create in the domain's zone.
    domain = r.inputs["domainName"]
    return {"status": "PENDING_VALIDATION", "domainValidationOptions": [{
        "domainName": domain, "resourceRecordName": f"_{a.hex(32)}.{domain}.",
        "resourceRecordType": "CNAME",
        "resourceRecordValue": f"_{a.hex(32)}.acm-validations.aws."}]}


def _invocation(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # The function's JSON answer; the provider fails the resource on a function error instead.
    return {"id": f"{r.inputs['functionName']}_$LATEST_{a.hex(32)}",
            "result": json.dumps({"status": "ok"})}


def _record(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # The alias record's name is the API's HTTPS URL.
    return {"id": f"{r.inputs['zoneId']}_{r.inputs['name']}_{r.inputs['type']}",
            "fqdn": str(r.inputs["name"]).rstrip(".")}


def _dashboard(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # Exported so operators can open it; CloudWatch dashboard ARNs are region-less.
    name = r.inputs.get("dashboardName") or r.physical_name or f"{r.name}-{a.hex(7)}"
    return {"id": name, "dashboardName": name,
            "dashboardArn": f"arn:{a.partition}:cloudwatch::{a.account_id}:dashboard/{name}"}


def _lambda_function(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # The topic's provisioning re-runs when the function's code hash changes: a function of the
    # deployment package, as Lambda computes it from the zip.
    code = json.dumps(r.inputs.get("code"), sort_keys=True, default=str)
    return {"codeSha256": hashlib.sha256(code.encode()).hexdigest()}


def _load_balancer(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # The API URL is its DNS name; metrics and scaling use the ARN suffix.
    suffix = f"app/{r.physical_name}/{a.hex(16)}"
    arn = a.arn("elasticloadbalancing", f"loadbalancer/{suffix}")
    return {"id": arn, "arn": arn, "arnSuffix": suffix, "zoneId": "Z35SXDOTRQ7X7K",
            "dnsName": f"{r.physical_name}-{a.hex(9)}.{a.region}.elb.amazonaws.com"}


def _target_group(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # Request-count scaling names the target group by its ARN suffix.
    suffix = f"targetgroup/{r.physical_name}/{a.hex(16)}"
    arn = a.arn("elasticloadbalancing", suffix)
    return {"id": arn, "arn": arn, "arnSuffix": suffix}


def _event_source_mapping(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # The mapping is exported and operated by its UUID.
    uuid = f"{a.hex(8)}-{a.hex(4)}-{a.hex(4)}-{a.hex(4)}-{a.hex(12)}"
    return {"id": uuid, "uuid": uuid, "arn": a.arn("lambda", f"event-source-mapping:{uuid}")}


def _sqs_queue(r: MockResource, a: AwsAccount) -> dict[str, Any]:
    # Senders (the handler, the queue policy) address the queue by URL, which is its id.
    url = f"https://sqs.{a.region}.amazonaws.com/{a.account_id}/{r.physical_name}"
    return {"id": url, "url": url}


SPECIAL_OUTPUTS: dict[str, OutputFactory] = {
    "aws:ec2/vpcIpam:VpcIpam": _ipam,
    "aws:ec2/vpcIpamPool:VpcIpamPool": _ipam_pool,
    "aws:ec2/vpcIpamPoolCidr:VpcIpamPoolCidr": _ipam_pool_cidr,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _subnet,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:msk/serverlessCluster:ServerlessCluster": _msk_serverless,
    "aws:ecr/repository:Repository": _ecr_repository,
    "docker:index/image:Image": _docker_image,
    "docker-build:index:Image": _build_image,
    "aws:acm/certificate:Certificate": _certificate,
    "aws:lambda/invocation:Invocation": _invocation,
    "aws:lambda/function:Function": _lambda_function,
    "aws:route53/record:Record": _record,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:lambda/eventSourceMapping:EventSourceMapping": _event_source_mapping,
    "aws:sqs/queue:Queue": _sqs_queue,
}

InvokeFactory = Callable[[dict[str, Any], AwsAccount], dict[str, Any]]

INVOKE_RESULTS: dict[str, InvokeFactory] = {
    "aws:index/getRegion:getRegion": lambda args, a: {
        "id": a.region, "region": a.region, "name": a.region,
        "endpoint": f"ec2.{a.region}.amazonaws.com"},
    "aws:index/getPartition:getPartition": lambda args, a: {
        "id": a.partition, "partition": a.partition, "dnsSuffix": "amazonaws.com"},
    "aws:index/getCallerIdentity:getCallerIdentity": lambda args, a: {
        "id": a.account_id, "accountId": a.account_id,
        "arn": f"arn:{a.partition}:iam::{a.account_id}:user/ci", "userId": "AIDAMOCK"},
    "aws:index/getAvailabilityZones:getAvailabilityZones": lambda args, a: {
        "id": a.region, "names": [f"{a.region}{zone}" for zone in "abcdef"],
        "zoneIds": [f"{a.region}-az{n}" for n in range(1, 7)], "state": args.get("state")},
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda args, a: {
        "id": a.region, "userName": "AWS", "password": "mock-ecr-password",
        "proxyEndpoint": f"https://{a.account_id}.dkr.ecr.{a.region}.amazonaws.com"},
}


def reveal(value: Any) -> Any:
    """`value` with every secret envelope replaced by the secret it holds."""
    if isinstance(value, dict):
        if value.get(SECRET_SIGNATURE[0]) == SECRET_SIGNATURE[1]:
            return reveal(value.get("value"))
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


# --- what a run registered ----------------------------------------------------------------------

@dataclass
class RecordedResource:
    """One registration as the engine saw it."""

    type: str
    name: str
    urn: str
    parent: str  # parent URN ("" for the stack itself)
    id: str
    custom: bool
    inputs: dict[str, Any]  # secrets revealed
    outputs: dict[str, Any]
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Resource options sent to the engine: delete_timeout, ignore_changes, protect, ...
    options: dict[str, Any] = field(default_factory=dict)


class AwsMocks(pulumi.runtime.Mocks):
    """Generic AWS mocks over one account; `outputs` and `invokes` are per-instance copies of
    SPECIAL_OUTPUTS and INVOKE_RESULTS that a test may extend."""

    def __init__(self, account: AwsAccount | None = None) -> None:
        self.account = account or AwsAccount.bootstrapped()
        self.outputs: dict[str, OutputFactory] = dict(SPECIAL_OUTPUTS)
        self.invokes: dict[str, InvokeFactory] = dict(INVOKE_RESULTS)
        self.resources: list[RecordedResource] = []
        self.component_outputs: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        if not args.custom:  # components have no provider outputs
            return "", {}
        resource = generic_outputs(args.typ, args.name, reveal(args.inputs), self.account)
        produced: dict[str, Any] = {"arn": resource.arn} if resource.arn else {}
        if resource.physical_name is not None:
            produced[NAME_PROPERTIES.get(resource.token.short, "name")] = resource.physical_name
        special = self.outputs.get(args.typ)
        if special is not None:
            produced.update(special(resource, self.account))
        resource_id = produced.pop("id", None) or resource.id
        return resource_id, {**args.inputs, **produced}

    def call(self, args: MockCallArgs) -> tuple[dict, list]:
        with self._lock:
            self.calls.append((args.token, dict(args.args)))
        factory = self.invokes.get(args.token)
        if factory is None:
            raise KeyError(f"no mocked result for invoke {args.token}: add it to "
                           "INVOKE_RESULTS (testing/pulumi_harness.py) or mocks.invokes")
        return factory(dict(args.args), self.account), []

    def record(self, resource: RecordedResource) -> None:
        with self._lock:
            self.resources.append(resource)

    def record_component_outputs(self, urn: str, outputs: dict[str, Any]) -> None:
        with self._lock:
            self.component_outputs[urn] = outputs


@dataclass
class PulumiRun:
    """Everything one mocked run registered and exported."""

    resources: list[RecordedResource]
    outputs: dict[str, Any]
    component_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lambda_builds: list[tuple[tuple, dict]] = field(default_factory=list)
    project: str = ""
    stack: str = ""

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, got {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> RecordedResource:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, got {len(found)}"
        return found[0]

    def by_urn(self, urn: str) -> RecordedResource:
        return next(r for r in self.resources if r.urn == urn)

    def by_id(self, resource_id: str) -> RecordedResource:
        found = [r for r in self.resources if r.custom and r.id == resource_id]
        assert len(found) == 1, f"expected one resource with id {resource_id}, got {len(found)}"
        return found[0]

    def children_of(self, urn: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == urn]

    def types(self) -> set[str]:
        return {r.type for r in self.resources}


# --- running a program --------------------------------------------------------------------------

def _event_loop() -> asyncio.AbstractEventLoop:
    """The current event loop, or a new one if another test's `asyncio.run` left none. It is
    kept across runs, so Outputs created between runs (or returned by one) stay resolvable."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
        if not loop.is_closed():
            return loop
    except RuntimeError:
        pass
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


def _run_in_pulumi_runtime(program: Callable[[], Any], mocks: AwsMocks, *, project: str,
                           stack: str) -> dict[str, Any]:
    """Run `program` under `mocks` (preview=False) and return the stack's resolved exports.

    The only code here that relies on the Pulumi SDK's private runtime; checked against
    pulumi==3.272.0. What it uses and why:
    - `SETTINGS.outputs.clear()` and `set_root_resource(None)`: a fresh Stack and no leftover
      Outputs from the previous run (the mock settings keep both between runs);
    - `run_pulumi_func`: runs the program and waits for every registration, re-raising the
      program's own exception afterwards (what `pulumi up` does with a program);
    - `rpc.deserialize_properties` and the `RegisterResource*` request fields (parent,
      dependencies, customTimeouts, ignoreChanges, ...): what the engine would record;
    - the Stack's `outputs` dict: the program's `pulumi.export`s.
    """
    from pulumi.runtime import rpc
    from pulumi.runtime.settings import SETTINGS, get_root_resource, set_root_resource
    from pulumi.runtime.stack import run_pulumi_func

    class RecordingMonitor(MockMonitor):
        def RegisterResource(self, request):  # noqa: N802 - gRPC method name
            response = super().RegisterResource(request)
            if request.type != STACK_TYPE:
                registration = self.resources[response.urn]
                mocks.record(RecordedResource(
                    type=request.type, name=request.name, urn=response.urn,
                    parent=request.parent, id=registration.id, custom=request.custom,
                    inputs=reveal(rpc.deserialize_properties(request.object)),
                    outputs=reveal(dict(registration.state)),
                    dependencies=tuple(request.dependencies),
                    property_dependencies={key: tuple(deps.urns) for key, deps
                                           in request.propertyDependencies.items()},
                    options={
                        "delete_timeout": request.customTimeouts.delete,
                        "ignore_changes": list(request.ignoreChanges),
                        "replace_on_changes": list(request.replaceOnChanges),
                        "delete_before_replace": request.deleteBeforeReplace,
                        "protect": request.protect,
                        "retain_on_delete": request.retainOnDelete,
                        "provider": request.provider,
                        # Parents (URNs) the resource was known under before (aliases).
                        "alias_parents": [a.spec.parentUrn for a in request.aliases
                                          if a.HasField("spec") and a.spec.parentUrn],
                    },
                ))
            return response

        def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
            mocks.record_component_outputs(request.urn,
                                           rpc.deserialize_properties(request.outputs))
            return super().RegisterResourceOutputs(request)

    loop = _event_loop()
    SETTINGS.outputs.clear()
    set_root_resource(None)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False,
                             monitor=RecordingMonitor(mocks))
    root = get_root_resource()
    try:
        loop.run_until_complete(run_pulumi_func(program))
    except BaseException:
        # A program that raised can leave tasks pending on its loop: later runs get a fresh
        # loop, so those tasks never register into another run's mocks.
        asyncio.set_event_loop(asyncio.new_event_loop())
        raise
    return {name: reveal(loop.run_until_complete(pulumi.Output.from_input(value).future()))
            for name, value in root.outputs.items()}


def _config_value(value: Any) -> str:
    # The CLI hands every config value to the program as a string; mimic that.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def full_config(config: Mapping[str, Any] | None, project: str,
                region: str = REGION) -> dict[str, str]:
    """Config as the CLI passes it: namespaced keys (the project's by default), string values,
    `aws:region` defaulting to the account's region (None unsets a key)."""
    full = {"aws:region": region}
    for key, value in (config or {}).items():
        full_key = key if ":" in key else f"{project}:{key}"
        if value is None:
            full.pop(full_key, None)
        else:
            full[full_key] = _config_value(value)
    return full


def project_name(project_dir: Path = PROJECT_ROOT) -> str:
    return yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["name"]


def run_program(program: Callable[[], Any], *, config: Mapping[str, Any] | None = None,
                mocks: AwsMocks | None = None, account: AwsAccount | None = None,
                project: str | None = None, stack: str = "test") -> PulumiRun:
    """Run `program` under mocks and return what it registered and exported.

    Config keys without a namespace get the project's. The program's own exception is
    re-raised after all pending registrations finished, so `mocks.resources` then shows what
    was registered. `account` (or `mocks.account`) is the account deployed into.
    """
    if mocks is None:
        mocks = AwsMocks(account)
    elif account is not None and account is not mocks.account:
        raise ValueError("pass either mocks or account, not both")
    project = project or project_name()
    pulumi.runtime.set_all_config(full_config(config, project, mocks.account.region))
    outputs = _run_in_pulumi_runtime(program, mocks, project=project, stack=stack)
    return PulumiRun(list(mocks.resources), outputs, dict(mocks.component_outputs),
                     list(mocks.calls), project=project, stack=stack)


def run_project(project_dir: Path, config: Mapping[str, Any] | None = None, *,
                stack: str = "test", **kwargs: Any) -> PulumiRun:
    """Run a Pulumi project's `__main__.py` in its directory with the directory on sys.path,
    as Pulumi's Python runtime does."""
    main = project_dir / "__main__.py"
    added = str(project_dir) not in sys.path
    if added:
        sys.path.insert(0, str(project_dir))
    try:
        with contextlib.chdir(project_dir):
            return run_program(lambda: runpy.run_path(str(main), run_name="__main__"),
                               config=config, project=project_name(project_dir), stack=stack,
                               **kwargs)
    finally:
        if added:
            sys.path.remove(str(project_dir))


def run_main(config: Mapping[str, Any] | None = None, **kwargs: Any) -> PulumiRun:
    """Run this repository's application program (`__main__.py`) with a stack's config.

    The consumer's deployment package is built by pip for arm64 when the real program runs;
    here a placeholder archive stands in (tests/unit/test_lambda_package.py builds real
    packages) and the call is recorded, so tests can assert what the program asked for.
    """
    from components import lambda_package

    builds: list[tuple[tuple, dict]] = []

    def record_build(*args: Any, **build_kwargs: Any) -> pulumi.Archive:
        builds.append((args, build_kwargs))
        # The placeholder names its build, so a function's `code` input says which package
        # the program gave it (testing/deployables.py reads it back).
        return pulumi.AssetArchive({PLACEHOLDER_FILE: pulumi.StringAsset(str(args[2]))})

    real_build = lambda_package.build_lambda_archive
    lambda_package.build_lambda_archive = record_build
    try:
        run = run_project(PROJECT_ROOT, config, **kwargs)
    finally:
        lambda_package.build_lambda_archive = real_build
    run.lambda_builds = builds
    return run


# The example stack files' placeholders (refused by the settings: settings/loader.py) and what
# the mocked account holds in their place, so the examples run here as a set-up account's would.
EXAMPLE_VALUES = {
    "REPLACE_WITH_POOL_ID": BOOTSTRAPPED_POOL_ID,
    "REPLACE_WITH_DOMAIN_NAME": "api.example.com",
    "REPLACE_WITH_HOSTED_ZONE_ID": "Z0123456789EXAMPLE0AB",
    "REPLACE_WITH_ALARM_EMAIL": "oncall@example.com",
}


def stack_config(stack: str, project_dir: Path = PROJECT_ROOT, *,
                 placeholders: bool = False) -> dict[str, Any]:
    """The `config:` block of Pulumi.<stack>.yaml, as the CLI would pass it, with the example's
    placeholders replaced by the mocked account's values (`placeholders=True` keeps them)."""
    data = yaml.safe_load((project_dir / f"Pulumi.{stack}.yaml").read_text()) or {}
    config = dict(data.get("config") or {})
    if placeholders:
        return config
    return {key: EXAMPLE_VALUES.get(value, value) if isinstance(value, str) else value
            for key, value in config.items()}


def resolve(value: Any) -> Any:
    """Resolve an Input/Output outside a program run (e.g. a pure helper's Output)."""
    return _event_loop().run_until_complete(pulumi.Output.from_input(value).future())
