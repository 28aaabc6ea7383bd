"""Alarms notify someone."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def _alarms_have_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == ALARM and not args.props.get("alarmActions"):
        report(f"{args.name}: an alarm without alarmActions notifies nobody; send it to the "
               "stack's alarm topic")


POLICIES = [
    ResourceValidationPolicy(
        name="alarm-has-action",
        description="Every alarm has an action (CloudWatch guide, 'Using Amazon CloudWatch "
                    "alarms': alarm actions).",
        validate=_alarms_have_actions,
    ),
]
