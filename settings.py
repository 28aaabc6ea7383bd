"""Stack settings: read once from `pulumi.Config`, validated, returned as frozen dataclasses.

Every key has a default and a one-line description in `SETTINGS_DOC`; the README table is
rendered from it (`render_settings_table`). All problems are collected and reported together in
one `pulumi.RunError`, before any resource is registered, so a typo never surfaces as a
traceback from deep inside a component.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

# key -> (default, one-line description). None means "not set".
SETTINGS_DOC: dict[str, tuple[Any, str]] = {
    # network
    "ipamPoolCidr": ("10.11.0.0/20", "IPv4 CIDR of the IPAM pool the VPC is allocated from."),
    "vpcNetmaskLength": (21, "Netmask length of the VPC CIDR allocated from the pool (16-28)."),
    "subnetNetmaskLength": (24, "Netmask length of every subnet (16-28); 2 subnets per AZ."),
    "availabilityZoneCount": (2, "AZs used (2-6; the ALB and MSK need at least two)."),
    # kafka
    "kafkaEnabled": (True, "Cost toggle: create MSK Serverless, the consumer and Kafka-only "
                           "endpoints (sts, lambda, sqs)."),
    "topicName": ("events", "Kafka topic the API writes and the consumer reads."),
    "topicPartitions": (3, "Partitions of the topic the API creates at start-up (>= 1)."),
    # api
    "apiDesiredCount": (1, "API tasks at deploy time (0 stops the API; then apiMinCount must "
                           "be 0)."),
    "apiMinCount": (1, "Autoscaling minimum number of API tasks."),
    "apiMaxCount": (4, "Autoscaling maximum number of API tasks."),
    "apiCpu": (256, "Fargate task CPU units (256, 512, 1024, 2048, 4096, 8192, 16384)."),
    "apiMemory": (512, "Fargate task memory in MiB; must be valid for apiCpu."),
    "onDemandBase": (0, "Tasks always placed on on-demand FARGATE (prod: 1)."),
    "onDemandWeight": (0, "Capacity-provider weight of FARGATE beyond the base."),
    "spotWeight": (1, "Capacity-provider weight of FARGATE_SPOT."),
    "logRetentionDays": (7, "CloudWatch Logs retention in days (one of CloudWatch's values)."),
    "certificateArn": (None, "ACM certificate ARN; when set, HTTPS listener and HTTP->HTTPS "
                             "redirect."),
    "ecrForceDelete": (True, "Let `pulumi destroy` delete the ECR repository with its images."),
    "ecrKeepImages": (10, "ECR lifecycle policy keeps this many most recent images."),
    "albDeletionProtection": (False, "Deletion protection on the load balancer."),
    "baseImage": (None, "Override the API Dockerfile's BASE_IMAGE build argument."),
    # consumer
    "consumerBatchSize": (100, "Max records per Lambda invocation (1-10000)."),
    "consumerBatchingWindowSeconds": (1, "Max seconds to gather a batch (0-300)."),
    "consumerStartingPosition": ("TRIM_HORIZON", "Where a new consumer group starts: "
                                                 "TRIM_HORIZON or LATEST."),
    "consumerGroupId": ("event-consumer", "Kafka consumer group id of the event source "
                                          "mapping."),
    "consumerProvisionedPollers": (0, "0 = on-demand pollers; >= 1 = provisioned mode with "
                                      "that many minimum pollers, retries and partial-batch "
                                      "responses."),
    "consumerMaxRetryAttempts": (3, "Retries of a failing batch in provisioned mode "
                                    "(0-10000)."),
    "consumerMemoryMb": (256, "Consumer Lambda memory in MB (128-10240)."),
    "consumerTimeoutSeconds": (60, "Consumer Lambda timeout in seconds (1-900)."),
    "consumerReservedConcurrency": (None, "Reserved concurrency of the consumer (unset = "
                                          "none)."),
    "consumerLagAlarmThreshold": (1000, "Alarm when the consumer's offset lag exceeds this."),
}

CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)

# Fargate's valid cpu -> memory (MiB) combinations.
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")
MIN_AZS, MAX_AZS = 2, 6
_KAFKA_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
# Kafka allows more in group ids, but '*' etc. would turn the exact group ARN in the consumer's
# IAM policy into a wildcard; the event source mapping caps the id at 200 characters.
_GROUP_ID = re.compile(r"^[a-zA-Z0-9._-]{1,200}$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")


@dataclass(frozen=True)
class NetworkSettings:
    ipam_pool_cidr: str
    vpc_netmask_length: int
    subnet_netmask_length: int
    availability_zone_count: int


@dataclass(frozen=True)
class KafkaSettings:
    enabled: bool
    topic_name: str
    topic_partitions: int


@dataclass(frozen=True)
class ApiSettings:
    desired_count: int
    min_count: int
    max_count: int
    cpu: int
    memory: int
    on_demand_base: int
    on_demand_weight: int
    spot_weight: int
    log_retention_days: int
    certificate_arn: str | None
    ecr_force_delete: bool
    ecr_keep_images: int
    alb_deletion_protection: bool
    base_image: str | None


@dataclass(frozen=True)
class ConsumerSettings:
    batch_size: int
    batching_window_seconds: int
    starting_position: str
    group_id: str
    provisioned_pollers: int
    max_retry_attempts: int
    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int | None
    lag_alarm_threshold: int


@dataclass(frozen=True)
class Settings:
    region: str
    network: NetworkSettings
    kafka: KafkaSettings
    api: ApiSettings
    consumer: ConsumerSettings


class _Reader:
    """Reads each key once, parses it, and records problems instead of raising."""

    def __init__(self, config: pulumi.Config) -> None:
        self._config = config
        self.problems: list[str] = []
        self._bad_keys: set[str] = set()

    def problem(self, key: str, value: Any, allowed: str) -> None:
        self.problems.append(f"{self._config.full_key(key)} = {value!r}: {allowed}")
        self._bad_keys.add(key)

    def ok(self, *keys: str) -> bool:
        """True if none of `keys` had a problem: cross-key checks run only then, so one typo
        gives one message."""
        return not self._bad_keys.intersection(keys)

    def _raw(self, key: str) -> str | None:
        value = self._config.get(key)
        return None if value is None or value == "" else value

    def text(self, key: str, check: Callable[[str], str | None] | None = None) -> str | None:
        raw = self._raw(key)
        value = SETTINGS_DOC[key][0] if raw is None else raw
        if value is not None and check is not None:
            self._check(key, value, check)
        return value

    def boolean(self, key: str) -> bool:
        raw = self._raw(key)
        if raw is None:
            return SETTINGS_DOC[key][0]
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            self.problem(key, raw, "must be true or false")
            return SETTINGS_DOC[key][0]
        return lowered == "true"

    def integer(
        self, key: str, low: int | None = None, high: int | None = None, *,
        optional: bool = False,
    ) -> int | None:
        raw = self._raw(key)
        if raw is None:
            return SETTINGS_DOC[key][0]
        try:
            value = int(raw.strip())
        except ValueError:
            self.problem(key, raw, f"must be a whole number{_range_text(low, high)}")
            return SETTINGS_DOC[key][0] if not optional else None
        if (low is not None and value < low) or (high is not None and value > high):
            self.problem(key, value, f"must be a whole number{_range_text(low, high)}")
        return value

    def _check(self, key: str, value: Any, check: Callable[[Any], str | None]) -> None:
        allowed = check(value)
        if allowed is not None:
            self.problem(key, value, allowed)


def _range_text(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" >= {low}"
    return ""


def _kafka_topic_problem(name: str) -> str | None:
    if _KAFKA_NAME.match(name) and name not in (".", ".."):
        return None
    return ("Kafka topic names are 1-249 characters of letters, digits, '.', '_' and '-', "
            "and not '.' or '..'")


def _group_id_problem(group: str) -> str | None:
    if _GROUP_ID.match(group):
        return None
    return "consumer group ids are 1-200 characters of letters, digits, '.', '_' and '-'"


def _certificate_problem(arn: str) -> str | None:
    if _ACM_ARN.match(arn):
        return None
    return "must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"


def _read_network(reader: _Reader) -> NetworkSettings:
    pool_cidr = reader.text("ipamPoolCidr")
    vpc_mask = reader.integer("vpcNetmaskLength", 16, 28)
    subnet_mask = reader.integer("subnetNetmaskLength", 16, 28)
    az_count = reader.integer("availabilityZoneCount", MIN_AZS, MAX_AZS)

    pool: ipaddress.IPv4Network | None = None
    try:
        parsed = ipaddress.ip_network(pool_cidr, strict=True)
        if isinstance(parsed, ipaddress.IPv4Network):
            pool = parsed
        else:
            reader.problem("ipamPoolCidr", pool_cidr, "must be an IPv4 network CIDR")
    except ValueError:
        reader.problem(
            "ipamPoolCidr", pool_cidr,
            "must be an IPv4 network CIDR with no host bits set, e.g. 10.11.0.0/20",
        )
    if pool is not None and reader.ok("vpcNetmaskLength") and pool.prefixlen > vpc_mask:
        reader.problem(
            "vpcNetmaskLength", vpc_mask,
            f"the pool {pool_cidr} cannot hold a /{vpc_mask} VPC; use >= {pool.prefixlen}",
        )
    subnets_needed = 2 * az_count  # one private and one public subnet per AZ
    fits = subnet_mask > vpc_mask and 2 ** (subnet_mask - vpc_mask) >= subnets_needed
    if reader.ok("vpcNetmaskLength", "subnetNetmaskLength", "availabilityZoneCount") and not fits:
        reader.problem(
            "subnetNetmaskLength", subnet_mask,
            f"a /{vpc_mask} VPC must hold {subnets_needed} subnets "
            f"(2 x {az_count} AZs) of this size; use a longer netmask or a bigger VPC",
        )
    return NetworkSettings(pool_cidr, vpc_mask, subnet_mask, az_count)


def _read_kafka(reader: _Reader) -> KafkaSettings:
    return KafkaSettings(
        enabled=reader.boolean("kafkaEnabled"),
        topic_name=reader.text("topicName", _kafka_topic_problem),
        topic_partitions=reader.integer("topicPartitions", 1),
    )


def _read_api(reader: _Reader) -> ApiSettings:
    desired = reader.integer("apiDesiredCount", 0)
    min_count = reader.integer("apiMinCount", 0)
    max_count = reader.integer("apiMaxCount", 1)
    counts_ok = reader.ok("apiDesiredCount", "apiMinCount", "apiMaxCount")
    if counts_ok and max_count < min_count:
        reader.problem("apiMaxCount", max_count, f"must be >= apiMinCount ({min_count})")
    elif counts_ok and not min_count <= desired <= max_count:
        reader.problem(
            "apiDesiredCount", desired,
            f"must be between apiMinCount ({min_count}) and apiMaxCount ({max_count}); "
            "to stop the API set apiMinCount to 0 too",
        )
    cpu = reader.integer("apiCpu")
    memory = reader.integer("apiMemory")
    if cpu not in FARGATE_MEMORY_BY_CPU:
        reader.problem("apiCpu", cpu, f"Fargate allows {sorted(FARGATE_MEMORY_BY_CPU)}")
    elif reader.ok("apiCpu", "apiMemory") and memory not in FARGATE_MEMORY_BY_CPU[cpu]:
        allowed = FARGATE_MEMORY_BY_CPU[cpu]
        reader.problem(
            "apiMemory", memory,
            f"with apiCpu {cpu} Fargate allows {allowed[0]}-{allowed[-1]} MiB "
            f"({', '.join(map(str, allowed))})",
        )
    on_demand_base = reader.integer("onDemandBase", 0, 100000)
    on_demand_weight = reader.integer("onDemandWeight", 0, 1000)
    spot_weight = reader.integer("spotWeight", 0, 1000)
    if reader.ok("onDemandWeight", "spotWeight") and on_demand_weight + spot_weight == 0:
        reader.problem("spotWeight", spot_weight, "onDemandWeight + spotWeight must be > 0")
    retention = reader.integer("logRetentionDays")
    if retention not in CLOUDWATCH_RETENTION_DAYS:
        reader.problem(
            "logRetentionDays", retention,
            f"CloudWatch allows {', '.join(map(str, CLOUDWATCH_RETENTION_DAYS))}",
        )
    return ApiSettings(
        desired_count=desired,
        min_count=min_count,
        max_count=max_count,
        cpu=cpu,
        memory=memory,
        on_demand_base=on_demand_base,
        on_demand_weight=on_demand_weight,
        spot_weight=spot_weight,
        log_retention_days=retention,
        certificate_arn=reader.text("certificateArn", _certificate_problem),
        ecr_force_delete=reader.boolean("ecrForceDelete"),
        ecr_keep_images=reader.integer("ecrKeepImages", 1, 1000),
        alb_deletion_protection=reader.boolean("albDeletionProtection"),
        base_image=reader.text("baseImage"),
    )


def _read_consumer(reader: _Reader) -> ConsumerSettings:
    position = reader.text("consumerStartingPosition")
    if position not in STARTING_POSITIONS:
        reader.problem(
            "consumerStartingPosition", position, f"must be one of {', '.join(STARTING_POSITIONS)}"
        )
    return ConsumerSettings(
        batch_size=reader.integer("consumerBatchSize", 1, 10000),
        batching_window_seconds=reader.integer("consumerBatchingWindowSeconds", 0, 300),
        starting_position=position,
        group_id=reader.text("consumerGroupId", _group_id_problem),
        provisioned_pollers=reader.integer("consumerProvisionedPollers", 0, 200),
        max_retry_attempts=reader.integer("consumerMaxRetryAttempts", 0, 10000),
        memory_mb=reader.integer("consumerMemoryMb", 128, 10240),
        timeout_seconds=reader.integer("consumerTimeoutSeconds", 1, 900),
        # 0 would be legal in Lambda but would stop the consumer entirely.
        reserved_concurrency=reader.integer("consumerReservedConcurrency", 1, optional=True),
        lag_alarm_threshold=reader.integer("consumerLagAlarmThreshold", 1),
    )


def load_settings(config: pulumi.Config, *, region: str | None) -> Settings:
    """Read and validate every stack setting; raise one `pulumi.RunError` listing all problems."""
    reader = _Reader(config)
    if not region:
        reader.problems.append("aws:region is not set: run `pulumi config set aws:region <region>`")
    settings = Settings(
        region=region or "",
        network=_read_network(reader),
        kafka=_read_kafka(reader),
        api=_read_api(reader),
        consumer=_read_consumer(reader),
    )
    if reader.problems:
        listed = "\n".join(f"  - {problem}" for problem in reader.problems)
        raise pulumi.RunError(
            f"Invalid stack configuration ({len(reader.problems)} problem(s)):\n{listed}"
        )
    return settings


def render_settings_table() -> str:
    """The README's settings table (markdown), generated from SETTINGS_DOC."""
    rows = ["| Key | Default | Description |", "| --- | --- | --- |"]
    for key, (default, description) in SETTINGS_DOC.items():
        if default is None:
            shown = "_unset_"
        elif isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        else:
            shown = f"`{default}`"
        rows.append(f"| `{key}` | {shown} | {description} |")
    return "\n".join(rows) + "\n"
