"""Every stack setting, declared once: key, type, default, allowed values, description, source.

Each section is a frozen pydantic model whose field aliases are the stack config keys. The
reader (settings/loader.py), the settings table of docs/configuration.md (settings/table.py),
the error messages and the defaults of the component args they feed all come from these fields.

Why pydantic rather than Pulumi.yaml's `config:` schema plus a validator: the project schema
only knows type, default and description, so ranges, allowed values, cross-key rules and the
AWS page behind each limit would live in a second place; pydantic holds them all next to the
type and validates the CLI's string values with one well-kept library.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from event_contract import kafka_names
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from components.api_service import ApiServiceArgs
from components.consumer import ConsumerArgs
from components.network import NetworkArgs
from components.topic import KafkaTopicArgs
from settings import limits

# --- value types -------------------------------------------------------------------------------


def _true_or_false(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError("must be true or false")
    return lowered == "true"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Bool = Annotated[bool, BeforeValidator(_true_or_false)]
Int = Annotated[int, BeforeValidator(_strip)]


def one_of(*allowed: Any) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(map(str, allowed))}")
        return value

    check.allowed = allowed  # type: ignore[attr-defined]  # shown in the settings table
    return check


def matching(pattern: str, explanation: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(explanation)
        return value

    check.allowed = explanation  # type: ignore[attr-defined]
    return check


def _from_rule(problem_of: Callable[[object], str | None], allowed: str) -> Callable[[str], str]:
    """A validator from one of event_contract.kafka_names' rules (the one home of Kafka names)."""

    def check(value: str) -> str:
        problem = problem_of(value)
        if problem:
            raise ValueError(problem)
        return value

    check.allowed = allowed  # type: ignore[attr-defined]
    return check


_kafka_topic = _from_rule(kafka_names.topic_name_problem, kafka_names.TOPIC_RULE)
# Kafka allows more in group ids, but '*' etc. would turn the exact group ARN in the consumer's
# IAM policy into a wildcard; the event source mapping caps the id at 200 characters.
_group_id = _from_rule(kafka_names.group_id_problem, kafka_names.GROUP_ID_RULE)
_ipam_pool_id = matching(r"ipam-pool-[0-9a-f]{8,17}",
                         "an IPAM pool id (ipam-pool-<hex>): the output poolId of bootstrap/ipam")
_acm_arn = matching(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+",
                    "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)")
_hosted_zone_id = matching(r"Z[A-Z0-9]{1,31}", "a Route 53 hosted zone id (Z...)")
_email = matching(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address")


def _domain_name(name: str) -> str:
    labels = name.rstrip(".").split(".")
    valid = (len(name.rstrip(".")) <= limits.ACM_DOMAIN_NAME_MAX and len(labels) >= 2 and all(
        re.fullmatch(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?", label) for label in labels))
    if not valid:
        raise ValueError("must be a DNS name such as api.example.com (labels of 1-63 letters, "
                         "digits and '-', at most 64 characters: ACM's limit for a "
                         "certificate's DomainName)")
    return name.rstrip(".").lower()


_domain_name.allowed = "a DNS name of at most 64 characters, e.g. api.example.com"  # type: ignore[attr-defined]



def _defaults(args: type) -> dict[str, Any]:
    """A component's own defaults by arg name: the library declares them, the settings reuse
    them (the dependency runs from the program to the library)."""
    return {f.name: f.default for f in dataclasses.fields(args)
            if f.default is not dataclasses.MISSING}


NETWORK, API, CONSUMER, TOPIC = (
    _defaults(args) for args in (NetworkArgs, ApiServiceArgs, ConsumerArgs, KafkaTopicArgs))

Retention = Annotated[Int, AfterValidator(one_of(*limits.CLOUDWATCH_RETENTION_DAYS))]


def setting(key: str, default: Any, description: str, *, source: str | None = None,
            allowed: str | None = None, **constraints: Any) -> Any:
    """A field declaring stack setting `key` (its alias). `source` names the AWS page behind
    its limits; `allowed` describes the values where the type and constraints cannot."""
    extra = {k: v for k, v in (("source", source), ("allowed", allowed)) if v}
    return Field(default, alias=key, description=description,
                 json_schema_extra=extra or None, **constraints)


_MODEL = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

# --- sections ----------------------------------------------------------------------------------


class NetworkSettings(BaseModel):
    model_config = _MODEL

    ipam_pool_id: Annotated[str, AfterValidator(_ipam_pool_id)] = setting(
        "ipamPoolId", ...,
        "IPAM pool the VPC's CIDR is allocated from (an existing pool: bootstrap/ipam's output "
        "poolId, or your organisation's delegated IPAM pool).",
        source="VPC IPAM guide, 'Quotas for your IPAM': IPAMs per Region 1, not adjustable")
    vpc_netmask_length: Int = setting(
        "vpcNetmaskLength", NETWORK["vpc_netmask_length"],
        "Netmask length of the VPC CIDR allocated from the pool. Fixed once deployed: a new "
        "value replaces the VPC, every subnet and the MSK Serverless cluster (records not yet "
        "consumed go with the old cluster), while the load balancer and the internet gateway "
        "would be updated in place into the new VPC, which that `up` is not expected to survive: "
        "make a new stack instead.",
        ge=limits.VPC_PREFIX[0], le=limits.VPC_PREFIX[1],
        source="Amazon VPC guide, 'Subnet CIDR blocks' (/16-/28)")
    subnet_netmask_length: Int = setting(
        "subnetNetmaskLength", NETWORK["subnet_netmask_length"],
        "Netmask length of every subnet (one private and one public per AZ), cut from the "
        "VPC's CIDR. Fixed once deployed: a new value replaces every subnet and the MSK "
        "Serverless cluster, and EC2 refuses new subnets that overlap the old ones while those "
        "exist (InvalidSubnet.Conflict), so that `up` fails.",
        ge=limits.VPC_PREFIX[0], le=limits.ALB_MAX_SUBNET_PREFIX,
        source="ELB guide, 'Application Load Balancers': ALB subnets at least /27")
    availability_zone_count: Int = setting(
        "availabilityZoneCount", NETWORK["availability_zone_count"],
        "AZs used; the ALB and MSK Serverless need at least two.",
        ge=limits.ALB_MIN_AZS, le=6,
        source="ELB guide, 'Application Load Balancers': subnets in at least two AZs")


class KafkaSettings(BaseModel):
    model_config = _MODEL

    enabled: Bool = setting(
        "kafkaEnabled", True,
        "Cost toggle: create MSK Serverless, the consumer and the Kafka-only endpoints. "
        "Turning it off on a deployed stack deletes the cluster with the records not yet "
        "consumed, and the dead-letter queue and bucket with their letters (replay them "
        "first); with retainData=true those are protected and stop that `up` instead.")
    topic_name: Annotated[str, AfterValidator(_kafka_topic)] = setting(
        "topicName", TOPIC["topic_name"], "Kafka topic the API writes and the consumer reads.")
    topic_partitions: Int = setting(
        "topicPartitions", TOPIC["partitions"], "Partitions of the topic.",
        ge=1, le=limits.MSK_SERVERLESS_MAX_PARTITIONS,
        source="Amazon MSK quota, 'MSK Serverless quota': 2400 partitions (leaders) per "
               "cluster for non-compacted topics")


class ApiSettings(BaseModel):
    """Field names equal ApiServiceArgs' (the program passes them through)."""

    model_config = _MODEL

    desired_count: Int = setting(
        "apiDesiredCount", API["desired_count"],
        "API tasks at the first deploy (autoscaling owns it afterwards); "
                              "0 stops the API, a running one too (autoscaling's minimum and "
                              "maximum become 0), then apiMinCount must be 0; restarting needs "
                              "apiMinCount >= 1.", ge=0)
    min_count: Int = setting("apiMinCount", API["min_count"],
        "Autoscaling minimum number of API tasks.",
                             ge=0)
    max_count: Int = setting("apiMaxCount", API["max_count"],
        "Autoscaling maximum number of API tasks.",
                             ge=1)
    cpu: Annotated[Int, AfterValidator(one_of(*limits.FARGATE_MEMORY_BY_CPU))] = setting(
        "apiCpu", API["cpu"], "Fargate task CPU units.",
        source="ECS guide, 'Task definition parameters for Fargate' (task size)")
    memory: Int = setting(
        "apiMemory", API["memory"], "Fargate task memory in MiB.",
        allowed="by apiCpu: " + "; ".join(
            f"{cpu}: {mem[0]}-{mem[-1]}" for cpu, mem in limits.FARGATE_MEMORY_BY_CPU.items()),
        source="ECS guide, 'Task definition parameters for Fargate' (task size)")
    on_demand_base: Int = setting(
        "onDemandBase", API["on_demand_base"],
        "Tasks always placed on on-demand FARGATE (prod: 1).",
        ge=limits.CAPACITY_PROVIDER_BASE[0], le=limits.CAPACITY_PROVIDER_BASE[1],
        source="ECS API reference, CapacityProviderStrategyItem")
    on_demand_weight: Int = setting(
        "onDemandWeight", API["on_demand_weight"],
        "Capacity-provider weight of FARGATE beyond the base.",
        ge=limits.CAPACITY_PROVIDER_WEIGHT[0], le=limits.CAPACITY_PROVIDER_WEIGHT[1],
        source="ECS API reference, CapacityProviderStrategyItem")
    spot_weight: Int = setting(
        "spotWeight", API["spot_weight"], "Capacity-provider weight of FARGATE_SPOT.",
        ge=limits.CAPACITY_PROVIDER_WEIGHT[0], le=limits.CAPACITY_PROVIDER_WEIGHT[1],
        source="ECS API reference, CapacityProviderStrategyItem")
    log_retention_days: Retention = setting(
        "apiLogRetentionDays", API["log_retention_days"],
        "CloudWatch Logs retention of the API's logs, in days.",
        source="CloudWatch Logs API reference, PutRetentionPolicy")
    certificate_arn: Annotated[str, AfterValidator(_acm_arn)] | None = setting(
        "certificateArn", API["certificate_arn"],
        "ACM certificate (in the stack's region) for the HTTPS listener; HTTP redirects to "
        "HTTPS. Exclusive with domainName.",
        source="ACM guide, 'Supported Regions': certificates are regional")
    ecr_force_delete: Bool = setting(
        "ecrForceDelete", API["ecr_force_delete"],
        "Let `pulumi destroy` delete the ECR repository with its images.")
    ecr_keep_images: Int = setting(
        "ecrKeepImages", API["ecr_keep_images"],
        "ECR lifecycle policy keeps this many most recent images. A new value replaces the "
        "policy (pulumi-aws deletes the old one first); the images are not touched.",
        ge=limits.ECR_LIFECYCLE_MIN_COUNT,
        source="ECR guide, 'Lifecycle policy parameters' (countNumber)")
    alb_deletion_protection: Bool = setting(
        "albDeletionProtection", API["alb_deletion_protection"],
        "Deletion protection on the load balancer.")
    base_image: str | None = setting(
        "baseImage", API["base_image"], "Override the API Dockerfile's BASE_IMAGE build argument.",
        allowed="an image reference")


class IngressSettings(BaseModel):
    """HTTPS and the load balancer's access logs (the API service component consumes them)."""

    model_config = _MODEL

    domain_name: Annotated[str, AfterValidator(_domain_name)] | None = setting(
        "domainName", API["domain_name"],
        "Issue an ACM certificate for this name, validated by DNS in hostedZoneId, and serve "
        "HTTPS on it. Exclusive with certificateArn.",
        source="ACM guide, 'DNS validation'; ACM API reference, RequestCertificate: DomainName "
               "at most 64 characters")
    hosted_zone_id: Annotated[str, AfterValidator(_hosted_zone_id)] | None = setting(
        "hostedZoneId", API["hosted_zone_id"],
        "Route 53 hosted zone of domainName (validation and alias "
                              "records).")
    allow_plain_http: Bool = setting(
        "allowPlainHttp", API["allow_plain_http"],
        "Serve plain HTTP only. A stack must set this, certificateArn or domainName.")
    access_logs_enabled: Bool = setting(
        "albAccessLogs", API["access_logs_enabled"],
        "Write ALB access logs to an encrypted S3 bucket (prod: true).")
    access_log_retention_days: Int = setting(
        "albAccessLogRetentionDays", API["access_log_retention_days"],
        "Days the access-log bucket keeps a log object (its lifecycle rule).",
        ge=limits.S3_EXPIRATION_MIN_DAYS,
        source="S3 guide, 'Lifecycle configuration elements' (Expiration Days)")


class AlarmSettings(BaseModel):
    model_config = _MODEL

    email: Annotated[str, AfterValidator(_email)] | None = setting(
        "alarmEmail", None,
        "Email address subscribed to the alarm topic (confirm the subscription mail).")


class ConsumerSettings(BaseModel):
    model_config = _MODEL

    batch_size: Int = setting(
        "consumerBatchSize", CONSUMER["batch_size"], "Max records per Lambda invocation.",
        ge=limits.MSK_MAPPING_BATCH_SIZE[0], le=limits.MSK_MAPPING_BATCH_SIZE[1],
        source="Lambda API reference, CreateEventSourceMapping (BatchSize, Amazon MSK)")
    batching_window_seconds: Int = setting(
        "consumerBatchingWindowSeconds", CONSUMER["batching_window_seconds"],
        "Max seconds to gather a batch.",
        ge=limits.MAPPING_BATCHING_WINDOW_S[0], le=limits.MAPPING_BATCHING_WINDOW_S[1],
        source="Lambda API reference, CreateEventSourceMapping "
               "(MaximumBatchingWindowInSeconds)")
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = setting(
        "consumerStartingPosition", CONSUMER["starting_position"],
        "Where a new consumer group starts: TRIM_HORIZON or LATEST.")
    consumer_group_id: Annotated[str, AfterValidator(_group_id)] = setting(
        "consumerGroupId", CONSUMER["consumer_group_id"],
        "Kafka consumer group id of the event source mapping (fixed once created).",
        source="Lambda API reference, AmazonManagedKafkaEventSourceConfig (ConsumerGroupId)")
    provisioned_pollers: Int = setting(
        "consumerProvisionedPollers", CONSUMER["provisioned_pollers"],
        "0 = on-demand pollers; >= 1 = provisioned mode with that many minimum pollers, the "
        "only mode with retry limits and partial-batch responses.",
        ge=0, le=limits.MAPPING_MINIMUM_POLLERS[1],
        source="Lambda API reference, ProvisionedPollerConfig (MinimumPollers 1-200)")
    maximum_retry_attempts: Int = setting(
        "consumerMaxRetryAttempts", CONSUMER["maximum_retry_attempts"],
        "Retries of a failing batch (-1 = until the record expires); provisioned mode only.",
        ge=limits.KAFKA_MAPPING_RETRY_ATTEMPTS[0], le=limits.KAFKA_MAPPING_RETRY_ATTEMPTS[1],
        source="Lambda guide, 'Configuring error handling controls for Kafka event sources'")
    memory_mb: Int = setting(
        "consumerMemoryMb", CONSUMER["memory_mb"], "Consumer Lambda memory in MB.",
        ge=limits.LAMBDA_MEMORY_MB[0], le=limits.LAMBDA_MEMORY_MB[1],
        source="Lambda guide, 'Configure Lambda function memory'")
    timeout_seconds: Int = setting(
        "consumerTimeoutSeconds", CONSUMER["timeout_seconds"],
        "Consumer Lambda timeout in seconds.",
        ge=1, le=limits.MSK_MAPPED_FUNCTION_MAX_TIMEOUT_S,
        source="Lambda guide, 'Configuring Amazon MSK event sources for Lambda': 14 minutes "
               "at most behind an MSK mapping")
    reserved_concurrency: Int | None = setting(
        "consumerReservedConcurrency", CONSUMER["reserved_concurrency"],
        "Reserved concurrency of the consumer (unset = none; 0 would stop it).", ge=1)
    log_retention_days: Retention = setting(
        "consumerLogRetentionDays", CONSUMER["log_retention_days"],
        "CloudWatch Logs retention of the consumer's logs, in days.",
        source="CloudWatch Logs API reference, PutRetentionPolicy")
    offset_lag_alarm_threshold: Int = setting(
        "consumerOffsetLagAlarmThreshold", CONSUMER["offset_lag_alarm_threshold"],
        "Alarm when the consumer's offset lag (records behind) exceeds this.", ge=1)


class DataSettings(BaseModel):
    """What `pulumi destroy` keeps; applied to the whole stack by settings/retention.py."""

    model_config = _MODEL

    retain_data: Bool = setting(
        "retainData", False,
        "Keep the data on `pulumi destroy` (prod: true): the MSK cluster, the dead-letter queue, "
        "the buckets and the KMS keys are protected and, once unprotected, left in the account. "
        "false: destroy deletes them, buckets with their objects.",
        source="Pulumi resource options 'protect' and 'retainOnDelete'")


class Settings(BaseModel):
    """All sections, plus the region from `aws:region`."""

    model_config = ConfigDict(frozen=True)

    region: str
    network: NetworkSettings
    kafka: KafkaSettings
    api: ApiSettings
    ingress: IngressSettings
    alarms: AlarmSettings
    consumer: ConsumerSettings
    data: DataSettings


SECTIONS: dict[str, type[BaseModel]] = {
    "network": NetworkSettings,
    "kafka": KafkaSettings,
    "api": ApiSettings,
    "ingress": IngressSettings,
    "alarms": AlarmSettings,
    "consumer": ConsumerSettings,
    "data": DataSettings,
}

# Keys that no longer exist: refused with the message naming what replaced them.
RETIRED_KEYS: dict[str, str] = {
    "consumerLagAlarmThreshold": "was renamed to consumerOffsetLagAlarmThreshold",
    "logRetentionDays": "was split into apiLogRetentionDays and consumerLogRetentionDays",
    "ipamPoolCidr": "is gone: the IPAM pool is created once per account and region by "
                    "bootstrap/ipam (its poolCidr); set ipamPoolId to its output poolId",
}

