"""One CloudWatch dashboard for the pipeline: ingest rate, 5xx (the API's 503s), consumer offset
lag, dead letters and errors, side by side (CloudWatch guide, "Dashboard body structure and
syntax": metric widgets as [namespace, metric, dimension name, value, ...] arrays)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.api_service import ApiService
from components.consumer import Consumer
from components.iam import render

PERIOD_S = 60


def _widget(title: str, region: str, metrics: list[list[Any]], x: int, y: int,
            stat: str = "Sum") -> dict[str, Any]:
    return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
            "properties": {"title": title, "region": region, "stat": stat, "period": PERIOD_S,
                           "view": "timeSeries", "metrics": metrics}}


def dashboard_body(region: str, load_balancer: str, function: str | None,
                   queue: str | None) -> dict[str, Any]:
    """The widgets; the consumer's only when the stack has one (Kafka enabled)."""
    elb = ["AWS/ApplicationELB"]
    widgets = [
        _widget("Ingest rate (requests/min)", region,
                [[*elb, "RequestCount", "LoadBalancer", load_balancer]], 0, 0),
        _widget("5xx: API (503 = not written to Kafka) and load balancer", region, [
            [*elb, "HTTPCode_Target_5XX_Count", "LoadBalancer", load_balancer],
            [*elb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", load_balancer]], 12, 0),
    ]
    if function is not None and queue is not None:
        widgets += [
            _widget("Consumer offset lag (records)", region,
                    [["AWS/Lambda", "OffsetLag", "FunctionName", function]], 0, 6, "Maximum"),
            _widget("Dead letters", region, [
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue],
                ["AWS/SQS", "NumberOfMessagesSent", "QueueName", queue]], 12, 6, "Maximum"),
            _widget("Consumer invocations and errors", region, [
                ["AWS/Lambda", "Invocations", "FunctionName", function],
                ["AWS/Lambda", "Errors", "FunctionName", function]], 0, 12),
        ]
    return {"widgets": widgets}


@dataclass
class PipelineDashboardArgs:
    api: ApiService
    """The API service: its load balancer's metrics."""
    consumer: Consumer | None = None
    """The consumer, when the stack has Kafka: offset lag, dead letters, errors."""


class PipelineDashboard(pulumi.ComponentResource):
    name: pulumi.Output[str]
    """The CloudWatch dashboard's name (project-stack-component name)."""

    def __init__(self, name: str, args: PipelineDashboardArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("event-pipeline:monitoring:PipelineDashboard", name, None, opts)
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        consumer = args.consumer
        body = render(dashboard_body, region, args.api.load_balancer_arn_suffix,
                      consumer.function_name if consumer else None,
                      consumer.dead_letter_queue_name if consumer else None)
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            # A dashboard name is required (no auto-naming); project+stack keeps stacks apart.
            dashboard_name=f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}",
            dashboard_body=body, opts=pulumi.ResourceOptions(parent=self))
        self.name = dashboard.dashboard_name
        self.register_outputs({"name": self.name})
