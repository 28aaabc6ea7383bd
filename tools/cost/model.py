"""Billed items of a stack at a given load: quantities from the graph and the benchmarks, times
the price table. Each item's arithmetic is a small function, so a test can replay a pricing
page's worked example through the same function the estimate uses."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tools.cost.figures import Figures
from tools.cost.graph import StackShape
from tools.cost.prices import PriceTable

# A month as AWS's pricing examples count it (730 hours).
HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
GB = 2**30  # AWS bills data in binary gigabytes
# "Lambda allocates CPU power in proportion to the amount of memory configured ... At 1,769 MB,
# a function has the equivalent of one vCPU" (Lambda developer guide, "Configure Lambda
# function memory"): below it a CPU-bound batch takes 1,769 / memory times as long as on a core.
LAMBDA_MB_PER_VCPU = 1769
# ALB LCU dimensions ("Elastic Load Balancing pricing", Application Load Balancer): one LCU is
# 25 new connections/s, 3,000 active connections/min, 1 GB/h for EC2/IP targets, 1,000 rule
# evaluations/s; the first 10 rules are free.
LCU_NEW_CONNECTIONS_PER_S = 25
LCU_ACTIVE_CONNECTIONS = 3000
LCU_GB_PER_HOUR = 1
LCU_RULE_EVALUATIONS_PER_S = 1000
FREE_RULES = 10
# Provisioned mode for a Kafka event source mapping is billed in Event Poller Units: "EPU-hours
# price is $0.185/hour and supports 10 event pollers per EPU" (Lambda pricing page, Example 3).
# A mapping outside a poller group has capacity of its own ("PollerGroupName ... group multiple
# ESMs ... to share Event Poller Unit (EPU) capacity", Lambda API reference,
# ProvisionedPollerConfig), so its minimum pollers take whole EPUs: the estimate's floor, before
# any autoscaling above the minimum.
KAFKA_POLLERS_PER_EPU = 10


@dataclass(frozen=True)
class Load:
    """What the user expects; the defaults are stated assumptions, printed with the estimate."""

    events_per_s: float
    record_bytes: int  # one Kafka record (value + key) as the API writes it
    http_bytes_per_event: int = 1000  # request + response through the ALB, headers included
    requests_per_connection: int = 100  # clients keep connections alive
    retention_hours: int = 168  # Kafka's default log.retention.hours; the program sets none


@dataclass(frozen=True)
class Item:
    name: str
    quantity: float
    unit: str
    price_item: str
    cost: float | None  # None: unpriced (the table has no rate for it)


# --- one billed dimension each ------------------------------------------------------------------

def alb_lcus(new_connections_per_s: float, active_connections: float, gb_per_hour: float,
             rule_evaluations_per_s: float) -> float:
    """LCUs of one hour: the highest of the four dimensions."""
    return max(new_connections_per_s / LCU_NEW_CONNECTIONS_PER_S,
               active_connections / LCU_ACTIVE_CONNECTIONS,
               gb_per_hour / LCU_GB_PER_HOUR,
               rule_evaluations_per_s / LCU_RULE_EVALUATIONS_PER_S)


def alb_rule_evaluations_per_s(requests_per_s: float, rules: int) -> float:
    """Rule evaluations per second: every request is evaluated against every rule, the first
    FREE_RULES free (the pricing page's example: 5 requests/s x (60 rules - 10 free) = 250)."""
    return requests_per_s * max(0, rules - FREE_RULES)


def kafka_epu_hours(minimum_pollers: int, mappings: int = 1, hours: float = HOURS_PER_MONTH,
                    grouped: bool = False) -> float:
    """EPU-hours of Kafka mappings held at their minimum pollers: pooled in one poller group
    (`grouped`, the page's Example 3: 1 poller x 10 ESMs / 10 per EPU = 1 EPU), or each mapping on
    whole EPUs of its own."""
    if grouped:
        return math.ceil(minimum_pollers * mappings / KAFKA_POLLERS_PER_EPU) * hours
    return mappings * math.ceil(minimum_pollers / KAFKA_POLLERS_PER_EPU) * hours


def lambda_gb_seconds(requests: float, average_ms: float, memory_mb: int) -> float:
    return requests * average_ms / 1000 * memory_mb / 1024


def fargate_hours(tasks: float, vcpu: float, memory_gb: float,
                  hours: float) -> tuple[float, float]:
    """(vCPU-hours, GB-hours): Fargate bills the task size, not its use."""
    return tasks * vcpu * hours, tasks * memory_gb * hours


def lambda_duration_ms(measured_ms: float, memory_mb: int) -> float:
    """A CPU-bound duration measured on one core, on a function with `memory_mb`."""
    return measured_ms * max(1.0, LAMBDA_MB_PER_VCPU / memory_mb)


def consumer_invocations_per_s(events_per_s: float, batch_size: int, window_s: float) -> float:
    """The mapping invokes when the batch is full or the batching window ends, whichever first."""
    if events_per_s <= 0:
        return 0.0
    per_batch = min(batch_size, max(1.0, events_per_s * window_s))
    return events_per_s / per_batch


def api_tasks(shape: StackShape, events_per_s: float, cpu_us_per_event: float) -> tuple[int, int]:
    """(tasks the service runs, tasks the load needs): the autoscaling target's policies in
    the graph decide, within its min and max."""
    needed = shape.min_tasks
    if events_per_s > 0 and shape.cpu_target_percent:
        usable = shape.task_vcpu * shape.cpu_target_percent / 100
        needed = max(needed, math.ceil(events_per_s * cpu_us_per_event / 1e6 / usable))
    if events_per_s > 0 and shape.requests_per_target_per_minute:
        needed = max(needed, math.ceil(events_per_s * 60 / shape.requests_per_target_per_minute))
    return min(needed, shape.max_tasks), needed


def active_ips(shape: StackShape, tasks: int) -> int:
    """Addresses IPAM counts as active in the stack's VPC: one per ENI."""
    functions = [f for f in (shape.consumer, shape.provisioner) if f]
    return (shape.interface_endpoint_hours_per_hour + shape.load_balancer_azs + tasks
            + sum(f.subnets for f in functions) + shape.kafka_subnets)


def _arch(architecture: str) -> str:
    """The price table's name for an architecture: arm64/ARM64 -> arm, x86_64/X86_64 -> x86."""
    return "arm" if architecture.lower() == "arm64" else "x86"


# --- the whole stack ----------------------------------------------------------------------------

def estimate(shape: StackShape, prices: PriceTable, figures: Figures, load: Load) -> list[Item]:
    region = shape.region

    def item(name: str, quantity: float, unit: str, price_item: str) -> Item:
        price = prices(region, price_item)
        return Item(name, quantity, unit, price_item, None if price is None else quantity * price)

    events = load.events_per_s * SECONDS_PER_MONTH
    items: list[Item] = []

    # Load balancer: hours, LCUs (the highest dimension each hour), its public addresses.
    gb_per_hour = load.events_per_s * load.http_bytes_per_event * 3600 / GB
    new_connections = load.events_per_s / load.requests_per_connection
    rule_evaluations = alb_rule_evaluations_per_s(load.events_per_s, shape.listener_rules)
    lcus = alb_lcus(new_connections, 0, gb_per_hour, rule_evaluations)
    items += [
        item("ALB hours", shape.load_balancers * HOURS_PER_MONTH, "LB-hours", "alb-hour"),
        item("ALB LCUs", shape.load_balancers * lcus * HOURS_PER_MONTH, "LCU-hours",
             "alb-lcu-hour"),
        item("ALB public IPv4 addresses (one per AZ)", shape.load_balancer_azs * HOURS_PER_MONTH,
             "address-hours", "public-ipv4-hour"),
        item("Data out to clients (responses)", events * load.http_bytes_per_event / 2 / GB,
             "GB", "data-transfer-out-internet-gb"),
    ]

    # Interface endpoints: every endpoint in every AZ, every hour; the API's logs go through
    # the logs endpoint.
    log_gb = events * figures.api_log_bytes_per_event / GB
    items += [
        item(f"Interface endpoints ({len(shape.interface_endpoint_azs)} x AZs)",
             shape.interface_endpoint_hours_per_hour * HOURS_PER_MONTH, "endpoint-AZ-hours",
             "interface-endpoint-az-hour"),
        item("Interface endpoint data (API logs)", log_gb, "GB", "interface-endpoint-gb"),
    ]

    # Kafka: cluster-hours, partition-hours, bytes written and read (one consumer group), and
    # the topic's bytes kept for its retention.
    data_gb = events * load.record_bytes / GB
    stored_gb = load.events_per_s * load.record_bytes * load.retention_hours * 3600 / GB
    if shape.kafka_clusters:
        items += [
            item("MSK Serverless cluster-hours", shape.kafka_clusters * HOURS_PER_MONTH,
                 "cluster-hours", "msk-serverless-cluster-hour"),
            item(f"MSK partition-hours ({shape.partitions} partitions)",
                 shape.partitions * HOURS_PER_MONTH, "partition-hours",
                 "msk-serverless-partition-hour"),
            item("MSK data in", data_gb, "GB", "msk-serverless-data-in-gb"),
            item("MSK data out (the consumer)", data_gb, "GB", "msk-serverless-data-out-gb"),
            item(f"MSK storage ({load.retention_hours} h retention)", stored_gb, "GB-months",
                 "msk-serverless-storage-gb-month"),
        ]

    # API tasks: as many as the scaling policies ask for; Spot share from the strategy.
    tasks, _ = api_tasks(shape, load.events_per_s, figures.api_cpu_us_per_event)
    spot = shape.spot_tasks(tasks)
    spot_share = prices(region, "fargate-spot-share-of-on-demand") or 1.0
    weighted_tasks = (tasks - spot) + spot * spot_share  # Spot billed at its share of the price
    arch = shape.task_architecture.lower()
    vcpu_hours, gb_hours = fargate_hours(weighted_tasks, shape.task_vcpu, shape.task_memory_gb,
                                         HOURS_PER_MONTH)
    items += [
        item(f"Fargate {arch} vCPU ({tasks} x {shape.task_vcpu:g} vCPU, {spot:g} on Spot)",
             vcpu_hours, "vCPU-hours (Spot weighted)", f"fargate-{_arch(arch)}-vcpu-hour"),
        item(f"Fargate {arch} memory ({tasks} x {shape.task_memory_gb:g} GB)",
             gb_hours, "GB-hours (Spot weighted)", f"fargate-{_arch(arch)}-gb-hour"),
    ]

    # Lambda: the consumer per batch, the topic provisioner once per deployment (its timeout
    # as the upper bound of its duration); pollers only in provisioned mode.
    if shape.consumer:
        invocations = consumer_invocations_per_s(load.events_per_s, shape.batch_size,
                                                 shape.batching_window_s) * SECONDS_PER_MONTH
        records = events / invocations if invocations else 0
        duration = lambda_duration_ms(figures.consumer_ms(records), shape.consumer.memory_mb)
        items += [
            item("Lambda consumer requests", invocations, "requests", "lambda-request"),
            item(f"Lambda consumer {shape.consumer.architecture} "
                 f"({shape.consumer.memory_mb} MB, {records:,.0f} records/batch)",
                 lambda_gb_seconds(invocations, duration, shape.consumer.memory_mb),
                 "GB-seconds", f"lambda-{_arch(shape.consumer.architecture)}-gb-second"),
        ]
    if shape.provisioner:
        items += [item("Lambda topic provisioner (one run per deployment, at its timeout)",
                       lambda_gb_seconds(1, shape.provisioner.timeout_s * 1000,
                                         shape.provisioner.memory_mb), "GB-seconds",
                       f"lambda-{_arch(shape.provisioner.architecture)}-gb-second")]
    if shape.provisioned_pollers:
        epu_hours = kafka_epu_hours(shape.provisioned_pollers)
        items += [item(f"Provisioned event pollers ({shape.provisioned_pollers} minimum, "
                       f"{epu_hours / HOURS_PER_MONTH:g} EPU)", epu_hours, "EPU-hours",
                       "lambda-kafka-epu-hour")]

    # Queues (dead letters only: nothing when every batch succeeds), keys, CloudWatch, IPAM.
    api_days = shape.log_retention_days.get("api", 0)
    items += [
        item(f"SQS ({shape.queues} dead-letter queue, no failures)", 0, "requests",
             "sqs-request"),
        item(f"KMS keys ({shape.kms_keys})", shape.kms_keys, "key-months", "kms-key-month"),
        item("CloudWatch Logs ingestion (API access lines)", log_gb, "GB",
             "cloudwatch-logs-ingest-gb"),
        item(f"CloudWatch Logs storage ({api_days} days of API logs)",
             log_gb / 30 * api_days, "GB-months", "cloudwatch-logs-storage-gb-month"),
        item(f"CloudWatch alarms ({shape.alarms})", shape.alarms, "alarm-months",
             "cloudwatch-alarm-month"),
        item(f"CloudWatch dashboards ({shape.dashboards})", shape.dashboards, "dashboard-months",
             "cloudwatch-dashboard-month"),
        item(f"IPAM share ({active_ips(shape, tasks)} active IPs in the VPC)",
             active_ips(shape, tasks) * HOURS_PER_MONTH, "IP-hours", "ipam-active-ip-hour"),
    ]
    return items


def total(items: list[Item]) -> float:
    return sum(i.cost for i in items if i.cost is not None)
