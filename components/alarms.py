"""Alarms as a table: one `AlarmSpec` row per alarm, one function that creates them all.

Every alarm notifies: `create_alarms` refuses an empty action list (issue 13 point 8), so an
alarm nobody hears cannot be declared. Actions and OK actions go to the same targets (the
pipeline's alarm topic, components/alarm_topic.py) so the recovery is announced too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AlarmSpec:
    suffix: str  # logical name: "<component>-<suffix>"
    target: str  # which dimension set of `create_alarms(targets=...)` the metric is for
    description: str
    namespace: str
    metric: str
    statistic: str
    threshold: float
    period: int = 300
    evaluation_periods: int = 1
    comparison: str = "GreaterThanThreshold"
    # No data means nothing happened (no traffic, no invocations): not an alarm. Health alarms
    # that must fire on silence say "breaching".
    missing_data: str = "notBreaching"


def create_alarms(
    parent: pulumi.Resource,
    prefix: str,
    specs: Sequence[AlarmSpec],
    targets: Mapping[str, Mapping[str, pulumi.Input[str]]],
    actions: Sequence[pulumi.Input[str]],
    tags: Mapping[str, str] | None = None,
) -> dict[str, aws.cloudwatch.MetricAlarm]:
    """One MetricAlarm per row, children of `parent`, keyed by suffix."""
    if not actions:
        raise ValueError(f"{prefix}: alarms need at least one action (e.g. the alarm topic ARN); "
                         "an alarm that notifies nobody is not declared")
    return {
        spec.suffix: aws.cloudwatch.MetricAlarm(
            f"{prefix}-{spec.suffix}",
            alarm_description=spec.description,
            namespace=spec.namespace,
            metric_name=spec.metric,
            dimensions=dict(targets[spec.target]),
            statistic=spec.statistic,
            period=spec.period,
            evaluation_periods=spec.evaluation_periods,
            threshold=spec.threshold,
            comparison_operator=spec.comparison,
            treat_missing_data=spec.missing_data,
            alarm_actions=list(actions),
            ok_actions=list(actions),
            tags=dict(tags or {}),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for spec in specs
    }
