"""The components as a Pulumi component package, for programs in any language.

The provider host (components/provider/__main__.py, PulumiPlugin.yaml) infers the package's schema
from these classes: the annotations give each input's and output's type, the string after each
one its description. Every input here is a plain value or a Pulumi input of one (ids, ARNs,
names, numbers), never a Python object, so a YAML, TypeScript, Go or C# program wires one
component's outputs into the next. Each class builds the library component of the same name
(components/<module>.py) as its only child, with the library's defaults for what is left out.

No `from __future__ import annotations` here: the schema analyzer reads the annotations as types.
"""

from typing import NotRequired, TypedDict

import pulumi

from components import alarm_topic, api_service, consumer, kafka, network, topic
from components.existing import ExistingKafkaCluster, ExistingTopic, ExistingVpc

PACKAGE = "event-pipeline"


def _child(component: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=component)


def _given(args: object, *names: str) -> dict[str, object]:
    """The inputs the program set among `names` (the library's defaults stand for the rest)."""
    return {name: args[name] for name in names if args.get(name) is not None}  # type: ignore[attr-defined]


class NetworkArgs(TypedDict):
    ipam_pool_id: pulumi.Input[str]
    """An existing IPAM pool (ipam-pool-...) the VPC's CIDR is allocated from."""
    vpc_netmask_length: NotRequired[int]
    """Netmask length of the VPC CIDR allocated from the pool (16-28; default 21)."""
    subnet_netmask_length: NotRequired[int]
    """Netmask length of every subnet, one private and one public per AZ (at most 27; default
    24)."""
    availability_zone_count: NotRequired[int]
    """Availability zones used, at least two (default 2)."""
    interface_endpoints: NotRequired[list[str]]
    """Short service names of the interface endpoints, e.g. ecr.api, ecr.dkr, logs, sts, lambda,
    sqs (default: ecr.api, ecr.dkr, logs)."""


class Network(pulumi.ComponentResource):
    """A private VPC from an IPAM pool: no NAT, public subnets only for a load balancer, and VPC
    endpoints that admit registered clients only."""

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
    endpoint_security_group_ids: pulumi.Output[dict[str, str]]
    """Security group of each interface endpoint, by short service name."""

    def __init__(self, name: str, args: NetworkArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PACKAGE}:index:Network", name, {}, opts)
        inner = network.Network(name, network.NetworkArgs(
            ipam_pool_id=args["ipam_pool_id"],
            **_given(args, "vpc_netmask_length", "subnet_netmask_length",
                     "availability_zone_count", "interface_endpoints")), _child(self))
        self.vpc_id, self.vpc_cidr = inner.vpc_id, inner.vpc_cidr
        self.private_subnet_ids = inner.private_subnet_ids
        self.public_subnet_ids = inner.public_subnet_ids
        self.private_route_table_id = inner.private_route_table_id
        self.s3_prefix_list_id = inner.s3_prefix_list_id
        self.endpoint_security_group_ids = pulumi.Output.from_input(
            inner.endpoint_security_group_ids)
        self.register_outputs({})


class KafkaClusterArgs(TypedDict):
    vpc_id: pulumi.Input[str]
    """VPC of the cluster's security group."""
    subnet_ids: pulumi.Input[list[str]]
    """Private subnets, in at least two AZs, of the cluster's endpoints."""


class KafkaCluster(pulumi.ComponentResource):
    """MSK Serverless with IAM (SASL) client authentication only."""

    arn: pulumi.Output[str]
    """The cluster's ARN."""
    bootstrap_brokers_sasl_iam: pulumi.Output[str]
    """Its SASL/IAM bootstrap brokers (port 9098)."""
    security_group_id: pulumi.Output[str]
    """The security group clients are admitted to (and the event source mapping's pollers use)."""
    cluster_name: pulumi.Output[str]
    """The cluster's name (from its ARN)."""
    cluster_uuid: pulumi.Output[str]
    """The cluster's UUID (from its ARN)."""

    def __init__(self, name: str, args: KafkaClusterArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PACKAGE}:index:KafkaCluster", name, {}, opts)
        inner = kafka.KafkaCluster(name, kafka.KafkaClusterArgs(
            vpc_id=args["vpc_id"], subnet_ids=args["subnet_ids"]), _child(self))
        self.arn = inner.arn
        self.bootstrap_brokers_sasl_iam = inner.bootstrap_brokers_sasl_iam
        self.security_group_id = inner.security_group_id
        self.cluster_name, self.cluster_uuid = inner.cluster_name, inner.cluster_uuid
        self.register_outputs({})


class KafkaTopicArgs(TypedDict):
    cluster_arn: pulumi.Input[str]
    """ARN of the MSK cluster the topic lives in."""
    bootstrap_brokers_sasl_iam: pulumi.Input[str]
    """The cluster's SASL/IAM bootstrap brokers."""
    cluster_security_group_id: pulumi.Input[str]
    """The cluster's security group: the provisioning function is admitted to it."""
    vpc_id: pulumi.Input[str]
    """VPC the provisioning function runs in."""
    private_subnet_ids: pulumi.Input[list[str]]
    """Private subnets the provisioning function runs in."""
    topic_name: NotRequired[str]
    """The topic to create (Kafka's name rules; default events)."""
    partitions: NotRequired[int]
    """Partitions of the topic; growing it adds partitions, shrinking fails (default 3)."""


class KafkaTopic(pulumi.ComponentResource):
    """A Kafka topic created (and grown) at deploy time by a Lambda function inside the VPC."""

    topic_name: pulumi.Output[str]
    """The topic's name."""
    partitions: pulumi.Output[int]
    """Its partition count."""
    function_name: pulumi.Output[str]
    """The provisioning function."""
    security_group_id: pulumi.Output[str]
    """The provisioning function's security group."""
    role_arn: pulumi.Output[str]
    """The provisioning function's role."""
    result: pulumi.Output[str]
    """What the provisioning run reported."""

    def __init__(self, name: str, args: KafkaTopicArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PACKAGE}:index:KafkaTopic", name, {}, opts)
        inner = topic.KafkaTopic(name, topic.KafkaTopicArgs(
            cluster=_cluster(args, name), network=ExistingVpc(
                vpc_id=args["vpc_id"], private_subnet_ids=args["private_subnet_ids"]),
            **_given(args, "topic_name", "partitions")), _child(self))
        self.topic_name = pulumi.Output.from_input(inner.topic_name)
        self.partitions = pulumi.Output.from_input(inner.partitions)
        self.function_name, self.result = inner.function_name, inner.result
        self.security_group_id, self.role_arn = inner.security_group_id, inner.role_arn
        self.register_outputs({})


def _cluster(args: object, name: str) -> ExistingKafkaCluster:
    return ExistingKafkaCluster(
        arn=args["cluster_arn"],  # type: ignore[index]
        bootstrap_brokers_sasl_iam=args["bootstrap_brokers_sasl_iam"],  # type: ignore[index]
        security_group_id=args["cluster_security_group_id"], name=f"{name}-kafka")  # type: ignore[index]


def _vpc(args: object, name: str) -> ExistingVpc:
    return ExistingVpc(
        vpc_id=args["vpc_id"], private_subnet_ids=args["private_subnet_ids"],  # type: ignore[index]
        public_subnet_ids=args.get("public_subnet_ids") or (),  # type: ignore[attr-defined]
        endpoint_security_group_ids=args["endpoint_security_group_ids"],  # type: ignore[index]
        s3_prefix_list_id=args["s3_prefix_list_id"], name=f"{name}-vpc")  # type: ignore[index]


class ConsumerArgs(TypedDict):
    vpc_id: pulumi.Input[str]
    """VPC the function runs in."""
    private_subnet_ids: pulumi.Input[list[str]]
    """Private subnets the function runs in."""
    endpoint_security_group_ids: dict[str, pulumi.Input[str]]
    """Security groups of the VPC's sts, lambda and sqs interface endpoints, by that name."""
    s3_prefix_list_id: pulumi.Input[str]
    """Prefix list of the VPC's S3 gateway endpoint (oversized dead letters go to S3)."""
    cluster_arn: pulumi.Input[str]
    """ARN of the MSK cluster the event source mapping reads."""
    bootstrap_brokers_sasl_iam: pulumi.Input[str]
    """The cluster's SASL/IAM bootstrap brokers."""
    cluster_security_group_id: pulumi.Input[str]
    """The cluster's security group (the mapping's pollers run with it)."""
    topic_name: str
    """The topic to consume."""
    alarm_actions: list[pulumi.Input[str]]
    """Where every alarm goes (e.g. an SNS topic ARN); at least one."""
    consumer_group_id: NotRequired[str]
    """Kafka consumer group of the mapping, fixed once created (default event-consumer)."""
    starting_position: NotRequired[str]
    """TRIM_HORIZON or LATEST: where a new group starts (default TRIM_HORIZON)."""
    batch_size: NotRequired[int]
    """Records per invocation, 1-10000 (default 100)."""
    batching_window_seconds: NotRequired[int]
    """Seconds to gather a batch, 0-300 (default 1)."""
    provisioned_pollers: NotRequired[int]
    """0: on-demand pollers; 1-200: provisioned mode with that many minimum pollers (default
    0)."""
    maximum_retry_attempts: NotRequired[int]
    """Retries of a failing batch in provisioned mode, -1-10000 (default 3)."""
    memory_mb: NotRequired[int]
    """Function memory, 128-10240 MB (default 256)."""
    timeout_seconds: NotRequired[int]
    """Function timeout, 1-840 seconds behind an MSK mapping (default 60)."""
    log_retention_days: NotRequired[int]
    """CloudWatch Logs retention of the function's logs (default 14)."""
    offset_lag_alarm_threshold: NotRequired[int]
    """Records behind the end of the topic before the offset-lag alarm fires (default 1000)."""


class Consumer(pulumi.ComponentResource):
    """A VPC Lambda fed by an MSK event source mapping, with its dead letters and alarms."""

    function_name: pulumi.Output[str]
    """The consumer function."""
    function_arn: pulumi.Output[str]
    """Its ARN."""
    mapping_uuid: pulumi.Output[str]
    """The event source mapping's UUID."""
    dead_letter_queue_url: pulumi.Output[str]
    """The dead-letter queue."""
    dead_letter_bucket_name: pulumi.Output[str]
    """The bucket of dead letters larger than one SQS message."""
    security_group_id: pulumi.Output[str]
    """The function's security group."""
    role_arn: pulumi.Output[str]
    """The execution role."""
    log_group_name: pulumi.Output[str]
    """The function's log group."""
    alarm_names: pulumi.Output[dict[str, str]]
    """The alarms, by kind (dead_letters, errors, offset_lag)."""

    def __init__(self, name: str, args: ConsumerArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PACKAGE}:index:Consumer", name, {}, opts)
        inner = consumer.Consumer(name, consumer.ConsumerArgs(
            network=_vpc(args, name),
            topic=ExistingTopic(cluster=_cluster(args, name), topic_name=args["topic_name"]),
            alarm_actions=args["alarm_actions"],
            **_given(args, "consumer_group_id", "starting_position", "batch_size",
                     "batching_window_seconds", "provisioned_pollers", "maximum_retry_attempts",
                     "memory_mb", "timeout_seconds", "log_retention_days",
                     "offset_lag_alarm_threshold")), _child(self))
        self.function_name, self.function_arn = inner.function_name, inner.function_arn
        self.mapping_uuid = inner.mapping_uuid
        self.dead_letter_queue_url = inner.dead_letter_queue_url
        self.dead_letter_bucket_name = inner.dead_letter_bucket_name
        self.security_group_id, self.role_arn = inner.security_group_id, inner.role_arn
        self.log_group_name, self.alarm_names = inner.log_group_name, inner.alarm_names
        self.register_outputs({})


class ApiServiceArgs(TypedDict):
    vpc_id: pulumi.Input[str]
    """VPC of the service and its load balancer."""
    private_subnet_ids: pulumi.Input[list[str]]
    """Private subnets of the tasks."""
    public_subnet_ids: pulumi.Input[list[str]]
    """Public subnets, in at least two AZs, of the load balancer."""
    endpoint_security_group_ids: dict[str, pulumi.Input[str]]
    """Security groups of the VPC's ecr.api, ecr.dkr and logs interface endpoints, by that
    name."""
    s3_prefix_list_id: pulumi.Input[str]
    """Prefix list of the VPC's S3 gateway endpoint (image layers come from S3)."""
    alarm_actions: list[pulumi.Input[str]]
    """Where every alarm goes (e.g. an SNS topic ARN); at least one."""
    cluster_arn: NotRequired[pulumi.Input[str]]
    """ARN of the MSK cluster the API writes to; without it the API runs with Kafka disabled."""
    bootstrap_brokers_sasl_iam: NotRequired[pulumi.Input[str]]
    """The cluster's SASL/IAM bootstrap brokers (with cluster_arn)."""
    cluster_security_group_id: NotRequired[pulumi.Input[str]]
    """The cluster's security group (with cluster_arn): the tasks are admitted to it."""
    topic_name: NotRequired[str]
    """The topic the API writes (with cluster_arn; default events)."""
    certificate_arn: NotRequired[str]
    """ACM certificate of the HTTPS listener."""
    domain_name: NotRequired[str]
    """With hosted_zone_id: the API's DNS name; a DNS-validated certificate is issued for it."""
    hosted_zone_id: NotRequired[str]
    """The Route 53 zone of domain_name."""
    allow_plain_http: NotRequired[bool]
    """Serve plain HTTP on port 80 instead of HTTPS (default false: a certificate or a domain is
    required)."""
    desired_count: NotRequired[int]
    """Tasks at creation; 0 stops the API (default 1)."""
    min_count: NotRequired[int]
    """Autoscaling minimum (default 1)."""
    max_count: NotRequired[int]
    """Autoscaling maximum (default 4)."""
    cpu: NotRequired[int]
    """Fargate CPU units (default 256)."""
    memory: NotRequired[int]
    """Fargate memory in MiB, valid for cpu (default 512)."""
    base_image: NotRequired[str]
    """Override of the Dockerfile's BASE_IMAGE build argument."""


class ApiService(pulumi.ComponentResource):
    """The event API on ECS Fargate (arm64, mostly Spot) behind an ALB; its image built and
    pushed by the deployment."""

    url: pulumi.Output[str]
    """The API's URL."""
    repository_url: pulumi.Output[str]
    """The ECR repository of its image."""
    image_ref: pulumi.Output[str]
    """The image by digest."""
    cluster_name: pulumi.Output[str]
    """The ECS cluster."""
    service_name: pulumi.Output[str]
    """The ECS service."""
    task_security_group_id: pulumi.Output[str]
    """The tasks' security group."""
    alarm_names: pulumi.Output[dict[str, str]]
    """The alarms, by kind."""

    def __init__(self, name: str, args: ApiServiceArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PACKAGE}:index:ApiService", name, {}, opts)
        kafka_topic = None
        if args.get("cluster_arn") is not None:
            kafka_topic = ExistingTopic(cluster=_cluster(args, name), topic_name=args.get(
                "topic_name") or topic.DEFAULT_TOPIC_NAME)
        inner = api_service.ApiService(name, api_service.ApiServiceArgs(
            network=_vpc(args, name), topic=kafka_topic, alarm_actions=args["alarm_actions"],
            **_given(args, "certificate_arn", "domain_name", "hosted_zone_id", "allow_plain_http",
                     "desired_count", "min_count", "max_count", "cpu", "memory", "base_image")),
            _child(self))
        self.url, self.repository_url = inner.url, inner.repository_url
        self.image_ref = inner.image_ref
        self.cluster_name, self.service_name = inner.cluster_name, inner.service_name
        self.task_security_group_id = inner.task_security_group_id
        self.alarm_names = inner.alarm_names
        self.register_outputs({})


class AlarmTopicArgs(TypedDict):
    alarm_email: NotRequired[str]
    """An address subscribed to every alarm (SNS mails it a confirmation first)."""


class AlarmTopic(pulumi.ComponentResource):
    """An encrypted SNS topic that CloudWatch alarms of this account publish to."""

    arn: pulumi.Output[str]
    """The topic's ARN: give it as alarm_actions."""
    key_arn: pulumi.Output[str]
    """The KMS key that encrypts it."""

    def __init__(self, name: str, args: AlarmTopicArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PACKAGE}:index:AlarmTopic", name, {}, opts)
        inner = alarm_topic.AlarmTopic(name, alarm_topic.AlarmTopicArgs(
            **_given(args, "alarm_email")), _child(self))
        self.arn, self.key_arn = inner.arn, inner.key_arn
        self.register_outputs({})


COMPONENTS: list[type[pulumi.ComponentResource]] = [
    Network, KafkaCluster, KafkaTopic, ApiService, Consumer, AlarmTopic]
