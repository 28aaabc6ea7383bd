"""Autoscaling owns the task count; what an MSK event source mapping allows; the topic's
partitions within the MSK Serverless quota."""

from __future__ import annotations

import json

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import as_list, of_type
from .limits import MSK_MAPPED_FUNCTION_MAX_TIMEOUT_S, MSK_SERVERLESS_MAX_PARTITIONS

ECS_SERVICE = "aws:ecs/service:Service"
SCALING_TARGET = "aws:appautoscaling/target:Target"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
INVOCATION = "aws:lambda/invocation:Invocation"
LAMBDA_DEFAULT_TIMEOUT_S = 3


def _autoscaled_services_ignore_desired_count(args: StackValidationArgs,
                                              report: ReportViolation) -> None:
    services = of_type(args.resources, ECS_SERVICE)
    for target in of_type(args.resources, SCALING_TARGET):
        if target.props.get("scalableDimension") != "ecs:service:DesiredCount":
            continue
        name = str(target.props.get("resourceId", "")).rsplit("/", 1)[-1]
        for service in (s for s in services if s.props.get("name") == name):
            if "desiredCount" not in (service.opts.ignore_changes or []):
                report(f"{service.name}: autoscaled by {target.name}, so every `pulumi up` "
                       "would reset its task count; add ignore_changes=['desiredCount']",
                       service.urn)


def _is_kafka(mapping_props) -> bool:
    return ":kafka:" in str(mapping_props.get("eventSourceArn", "")) or bool(
        mapping_props.get("selfManagedEventSource"))


def _msk_mapped_functions_time_out_in_14_minutes(args: StackValidationArgs,
                                                 report: ReportViolation) -> None:
    functions = of_type(args.resources, FUNCTION)
    for mapping in of_type(args.resources, MAPPING):
        if not _is_kafka(mapping.props):
            continue
        target = mapping.props.get("functionName")
        for function in (f for f in functions if target in (f.props.get("arn"),
                                                            f.props.get("name"))):
            timeout = function.props.get("timeout") or LAMBDA_DEFAULT_TIMEOUT_S
            if timeout > MSK_MAPPED_FUNCTION_MAX_TIMEOUT_S:
                report(f"{function.name}: timeout {timeout} s behind a Kafka mapping; at most "
                       f"{MSK_MAPPED_FUNCTION_MAX_TIMEOUT_S} s", function.urn)


def _kafka_error_handling_needs_provisioned_mode(args: ResourceValidationArgs,
                                                 report: ReportViolation) -> None:
    if args.resource_type != MAPPING or not _is_kafka(args.props):
        return
    if args.props.get("provisionedPollerConfig"):
        return
    used = [name for name, on in (
        ("ReportBatchItemFailures",
         "ReportBatchItemFailures" in as_list(args.props.get("functionResponseTypes"))),
        ("maximumRetryAttempts", args.props.get("maximumRetryAttempts") is not None),
        ("bisectBatchOnFunctionError", bool(args.props.get("bisectBatchOnFunctionError"))),
    ) if on]
    if used:
        report(f"{args.name}: {', '.join(used)} exist for Kafka mappings in provisioned mode "
               "only; set provisioned pollers or drop them")


def _partitions_within_quota(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """The topic is provisioned by a Lambda Invocation whose input names its partitions
    (components/topic.py); any other Invocation input is not a topic and is left alone."""
    if args.resource_type != INVOCATION:
        return
    try:
        data = json.loads(args.props.get("input") or "")
    except (TypeError, ValueError):
        return
    partitions = data.get("partitions") if isinstance(data, dict) else None
    if isinstance(partitions, int) and partitions > MSK_SERVERLESS_MAX_PARTITIONS:
        report(f"{args.name}: topic {data.get('topic')!r} with {partitions} partitions; an MSK "
               f"Serverless cluster holds at most {MSK_SERVERLESS_MAX_PARTITIONS} (non-compacted "
               "topics)")


POLICIES = [
    ResourceValidationPolicy(
        name="msk-serverless-partitions-within-quota",
        description="A topic provisioned on MSK Serverless stays within its partition quota, "
                    f"{MSK_SERVERLESS_MAX_PARTITIONS} partitions (leaders) per cluster for "
                    "non-compacted topics (Amazon MSK developer guide, 'Amazon MSK quota': "
                    "MSK Serverless quota).",
        validate=_partitions_within_quota,
    ),
    StackValidationPolicy(
        name="autoscaled-ecs-service-ignores-desired-count",
        description="An autoscaled ECS service ignores desiredCount after creation (pulumi-aws "
                    "aws.ecs.Service docs, 'Ignoring Changes to Desired Count').",
        validate=_autoscaled_services_ignore_desired_count,
    ),
    StackValidationPolicy(
        name="msk-mapped-function-timeout-at-most-840s",
        description="A function behind an MSK mapping times out in 14 minutes at most (Lambda "
                    "guide, 'Configuring Amazon MSK event sources for Lambda').",
        validate=_msk_mapped_functions_time_out_in_14_minutes,
    ),
    ResourceValidationPolicy(
        name="kafka-error-handling-needs-provisioned-mode",
        description="ReportBatchItemFailures, retry limits and batch splitting only with "
                    "provisioned pollers (Lambda guide, 'Configuring error handling controls "
                    "for Kafka event sources').",
        validate=_kafka_error_handling_needs_provisioned_mode,
    ),
]
