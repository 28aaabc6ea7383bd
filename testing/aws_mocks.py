"""The mocked AWS provider: what a custom resource gets back from `AwsMocks.new_resource`.

- its inputs, echoed into its state as the provider stores them;
- `id`, plus `arn` and `name` where the provider's Python class declares those outputs, all
  derived from the type token: `aws:sqs/queue:Queue` is service `sqs`, kind `queue`, ARN
  `arn:aws:sqs:REGION:ACCOUNT:NAME` (services whose ARNs are laid out differently are listed
  in ARN_LAYOUTS); `name` is Pulumi's auto-name (logical name + random suffix) unless set;
- SPECIAL_OUTPUTS: the few computed outputs the program really consumes (a VPC's CIDR, MSK's
  bootstrap brokers and cluster ARN, the pushed image's digest, ...), each with its reason.

Every other computed output stays unset, so a program that starts to rely on one fails here
instead of passing on an invented value. Components have no provider outputs (multi-language
ones, such as pulumi-awsx's, are opaque under mocks). An invoke without an entry in
INVOKE_RESULTS fails loudly.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import ipaddress
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from testing.aws_account import AwsAccount, AwsRefusal

if TYPE_CHECKING:
    from testing.pulumi_runner import RecordedResource

# Pulumi's property wire format marks a secret with this signature key/value pair (shared by
# every language SDK: sdk/go/common/resource/sig). Mocks see secrets in that envelope.
SECRET_SIGNATURE = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")


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
                       "(testing/aws_mocks.py)")
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
                           "INVOKE_RESULTS (testing/aws_mocks.py) or mocks.invokes")
        return factory(dict(args.args), self.account), []

    def record(self, resource: RecordedResource) -> None:
        with self._lock:
            self.resources.append(resource)

    def record_component_outputs(self, urn: str, outputs: dict[str, Any]) -> None:
        with self._lock:
            self.component_outputs[urn] = outputs
