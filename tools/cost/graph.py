"""The billed shape of a stack, read from the program's own resource graph.

The program runs under the mocks harness (testing/pulumi_harness.py) with Pulumi.<stack>.yaml,
exactly as the tests run it; every count and size below is read from what it registered, so a
setting, a new endpoint or a bigger task shows up in the estimate without being typed here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FUNCTION = "aws:lambda/function:Function"


class StackError(ValueError):
    """The stack file is unknown, or the program refused it; the message says which."""


@dataclass(frozen=True)
class LambdaShape:
    memory_mb: int
    timeout_s: int
    architecture: str
    subnets: int  # VPC subnets: Lambda keeps one Hyperplane ENI per subnet and security group


@dataclass(frozen=True)
class StackShape:
    stack: str
    region: str
    load_balancers: int
    load_balancer_azs: int  # an internet-facing ALB holds one public IPv4 address per AZ
    listener_rules: int  # rules beyond the default actions (the first 10 are free)
    interface_endpoint_azs: tuple[int, ...]  # per interface endpoint: the AZs it is in
    task_vcpu: float
    task_memory_gb: float
    task_architecture: str
    desired_tasks: int
    min_tasks: int
    max_tasks: int
    on_demand_base: int
    on_demand_weight: float
    spot_weight: float
    cpu_target_percent: float | None  # target tracking on ECSServiceAverageCPUUtilization
    requests_per_target_per_minute: float | None  # target tracking on ALBRequestCountPerTarget
    kafka_clusters: int
    kafka_subnets: int
    partitions: int
    consumer: LambdaShape | None
    provisioner: LambdaShape | None
    batch_size: int
    batching_window_s: float
    provisioned_pollers: int  # minimum pollers; 0 = on-demand mode
    log_retention_days: Mapping[str, int]  # "api", "consumer", "topic" -> days
    alarms: int
    dashboards: int
    kms_keys: int
    queues: int

    @property
    def interface_endpoint_hours_per_hour(self) -> int:
        return sum(self.interface_endpoint_azs)

    def spot_tasks(self, tasks: int) -> float:
        """How many of `tasks` ECS places on FARGATE_SPOT: the base on FARGATE first, the rest
        split by weight ("Capacity provider strategies", ECS developer guide)."""
        rest = max(0, tasks - self.on_demand_base)
        weights = self.on_demand_weight + self.spot_weight
        return rest * self.spot_weight / weights if weights else 0.0


def _one_or_none(run: Any, type_: str) -> Any:
    found = run.of_type(type_)
    return found[0] if found else None


def _strategy(run: Any) -> tuple[int, float, float]:
    service = run.one("aws:ecs/service:Service")
    items = service.inputs.get("capacityProviderStrategies")
    if not items:
        cluster = _one_or_none(run, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
        items = (cluster.inputs.get("defaultCapacityProviderStrategies") or []) if cluster else []
    by_name = {item["capacityProvider"]: item for item in items}
    on_demand = by_name.get("FARGATE", {})
    spot = by_name.get("FARGATE_SPOT", {})
    if not items:  # no strategy: the service's launch type, all on-demand
        return 0, 1.0, 0.0
    # The program sets a base only on FARGATE (settings: onDemandBase).
    return (int(on_demand.get("base", 0) or 0), float(on_demand.get("weight", 0) or 0),
            float(spot.get("weight", 0) or 0))


def _targets(run: Any) -> tuple[float | None, float | None]:
    cpu = requests = None
    for policy in run.of_type("aws:appautoscaling/policy:Policy"):
        config = policy.inputs.get("targetTrackingScalingPolicyConfiguration") or {}
        metric = (config.get("predefinedMetricSpecification") or {}).get("predefinedMetricType")
        if metric == "ECSServiceAverageCPUUtilization":
            cpu = float(config["targetValue"])
        elif metric == "ALBRequestCountPerTarget":
            requests = float(config["targetValue"])
    return cpu, requests


def _function(run: Any, handler_package: str) -> LambdaShape | None:
    for function in run.of_type(FUNCTION):
        if str(function.inputs.get("handler", "")).startswith(f"{handler_package}."):
            return LambdaShape(
                memory_mb=int(function.inputs.get("memorySize", 128)),
                timeout_s=int(function.inputs.get("timeout", 3)),
                architecture=(function.inputs.get("architectures") or ["x86_64"])[0],
                subnets=len((function.inputs.get("vpcConfig") or {}).get("subnetIds") or []))
    return None


def _log_retention(run: Any) -> dict[str, int]:
    days = {}
    for group in run.of_type("aws:cloudwatch/logGroup:LogGroup"):
        name = group.name.removesuffix("-logs")
        # Never-expire groups (no retention) are kept forever: counted as ten years.
        days[name] = int(group.inputs.get("retentionInDays") or 3650)
    return days


def shape_of(run: Any, stack: str, region: str) -> StackShape:
    """The billed shape of one mocked run of the program."""
    balancers = run.of_type("aws:lb/loadBalancer:LoadBalancer")
    task = run.one("aws:ecs/taskDefinition:TaskDefinition")
    service = run.one("aws:ecs/service:Service")
    target = _one_or_none(run, "aws:appautoscaling/target:Target")
    mapping = _one_or_none(run, "aws:lambda/eventSourceMapping:EventSourceMapping")
    invocation = _one_or_none(run, "aws:lambda/invocation:Invocation")
    clusters = run.of_type("aws:msk/serverlessCluster:ServerlessCluster")
    desired = int(service.inputs.get("desiredCount", 1))
    base, on_demand_weight, spot_weight = _strategy(run)
    cpu_target, requests_target = _targets(run)
    mapping_inputs = mapping.inputs if mapping else {}
    pollers = (mapping_inputs.get("provisionedPollerConfig") or {}).get("minimumPollers") or 0
    return StackShape(
        stack=stack, region=region,
        load_balancers=len(balancers),
        load_balancer_azs=sum(len(b.inputs.get("subnets") or []) for b in balancers
                              if not b.inputs.get("internal")),
        listener_rules=len(run.of_type("aws:lb/listenerRule:ListenerRule")),
        interface_endpoint_azs=tuple(
            len(e.inputs.get("subnetIds") or [])
            for e in run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
            if e.inputs.get("vpcEndpointType") == "Interface"),
        task_vcpu=int(task.inputs["cpu"]) / 1024,
        task_memory_gb=int(task.inputs["memory"]) / 1024,
        task_architecture=(task.inputs.get("runtimePlatform") or {}).get("cpuArchitecture",
                                                                          "X86_64"),
        desired_tasks=desired,
        min_tasks=int(target.inputs["minCapacity"]) if target else desired,
        max_tasks=int(target.inputs["maxCapacity"]) if target else desired,
        on_demand_base=base, on_demand_weight=on_demand_weight, spot_weight=spot_weight,
        cpu_target_percent=cpu_target, requests_per_target_per_minute=requests_target,
        kafka_clusters=len(clusters),
        kafka_subnets=sum(len(c.inputs["vpcConfigs"][0]["subnetIds"]) for c in clusters),
        partitions=int(json.loads(invocation.inputs["input"])["partitions"]) if invocation else 0,
        consumer=_function(run, "event_consumer"),
        provisioner=_function(run, "topic_admin"),
        # AWS's defaults when the mapping leaves them unset (Lambda API reference,
        # CreateEventSourceMapping: BatchSize 100, MaximumBatchingWindowInSeconds 0.5 for MSK).
        batch_size=int(mapping_inputs.get("batchSize", 100)),
        batching_window_s=float(mapping_inputs.get("maximumBatchingWindowInSeconds", 0.5)),
        provisioned_pollers=int(pollers),
        log_retention_days=_log_retention(run),
        alarms=len(run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")),
        dashboards=len(run.of_type("aws:cloudwatch/dashboard:Dashboard")),
        kms_keys=len(run.of_type("aws:kms/key:Key")),
        queues=len(run.of_type("aws:sqs/queue:Queue")),
    )


def read_stack(stack: str) -> StackShape:
    """Run the program under mocks with Pulumi.<stack>.yaml and read its billed shape."""
    from testing.pulumi_harness import PROJECT_ROOT, REGION, run_main, stack_config

    if not (PROJECT_ROOT / f"Pulumi.{stack}.yaml").is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")]
                       for p in PROJECT_ROOT.glob("Pulumi.*.yaml"))
        raise StackError(f"no stack file Pulumi.{stack}.yaml (stack files: {', '.join(known)})")
    config = stack_config(stack)
    try:
        run = run_main(config, stack=stack)
    except Exception as error:  # noqa: BLE001 - the program's own refusal, shown as it is
        raise StackError(f"the program refused Pulumi.{stack}.yaml: {error}") from None
    return shape_of(run, stack, str(config.get("aws:region", REGION)))
