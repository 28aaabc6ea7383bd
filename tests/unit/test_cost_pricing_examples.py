"""Worked examples from AWS's own pages, replayed to the cent through the functions the
estimate uses (tools/cost/model.py).

Only examples whose text was found are replayed. The worked examples of the pricing pages of
MSK, Fargate, ALB and PrivateLink were not in the stored copies the search tool reaches (their
pages render the examples dynamically), so none is invented here; the page rules those pages do
state in text are checked instead, each quoted.
"""

from __future__ import annotations

import pytest

from tools.cost.model import (
    HOURS_PER_MONTH,
    alb_lcus,
    fargate_hours,
    lambda_duration_ms,
    lambda_gb_seconds,
)


def cents(value: float) -> float:
    return round(value, 2)


def test_lambda_aws_news_blog_1ms_billing_example():
    # AWS News Blog, "New for AWS Lambda – 1ms Billing Granularity" (Danilo Poccia, Dec 2020):
    # "100,000 users * 20 invocations * 30 days = 60 million invocations."
    # "60 million invocations * $0.20 per 1M requests = $12"
    # "60 million invocations * 28ms * 1G memory * $0.0000166667 for every GB-second = $28"
    # "... with the old 100ms rounded up pricing would have been: ... = $100"
    invocations = 100_000 * 20 * 30
    assert invocations == 60_000_000
    assert cents(invocations * 0.20 / 1e6) == 12.00
    assert cents(lambda_gb_seconds(invocations, 28, 1024) * 0.0000166667) == 28.00
    assert cents(lambda_gb_seconds(invocations, 100, 1024) * 0.0000166667) == 100.00
    # "overall costs including request and compute charges are much cheaper ($40)"
    assert cents(12 + lambda_gb_seconds(invocations, 28, 1024) * 0.0000166667) == 40.00


def test_fargate_third_party_worked_example():
    # tomgregory.com, "AWS Fargate Spot vs Fargate price comparison" (eu-west-1, x86 rates of
    # the Fargate pricing page): "a 0.25 vCPU and 0.5 GB Fargate container running for 24 hours
    # would cost $0.29622 (calculated as 0.04048 * 0.25 * 24 + 0.004445 * 0.5 * 24)".
    # Not AWS's own example: none was found in the stored Fargate page.
    vcpu_hours, gb_hours = fargate_hours(1, 0.25, 0.5, 24)
    assert round(vcpu_hours * 0.04048 + gb_hours * 0.004445, 5) == 0.29622


def test_alb_lcu_is_the_highest_of_the_four_dimensions():
    # Elastic Load Balancing pricing: "An LCU contains: 25 new connections per second; 3,000
    # active connections per minute; 1 GB per hour for EC2/containers/IP targets ...; 1,000
    # rule evaluations per second", and the dimension with the highest usage is billed.
    assert alb_lcus(25, 0, 0, 0) == 1
    assert alb_lcus(0, 3000, 0, 0) == 1
    assert alb_lcus(0, 0, 1, 0) == 1
    assert alb_lcus(0, 0, 0, 1000) == 1
    assert alb_lcus(50, 3000, 0.5, 10) == 2  # new connections dominate
    # With the page's "$0.0225 hourly charge" and "$0.008 per LCU": an ALB processing 4 GB
    # every hour of a 730-hour month (our own case, not the page's example) costs
    # 730 * (0.0225 + 4 * 0.008).
    assert HOURS_PER_MONTH * (0.0225 + alb_lcus(0, 0, 4, 0) * 0.008) == pytest.approx(39.785)


@pytest.mark.parametrize(("endpoints", "azs", "expected"), [(6, 2, 87.60), (6, 3, 131.40)])
def test_privatelink_bills_every_endpoint_in_every_az_every_hour(endpoints, azs, expected):
    # AWS PrivateLink pricing: "You will be billed for each hour that your VPC endpoint remains
    # provisioned in each Availability Zone"; interface endpoint rate $0.01 per hour per AZ.
    assert cents(endpoints * azs * HOURS_PER_MONTH * 0.01) == expected


def test_lambda_cpu_grows_with_memory_up_to_one_vcpu():
    # Lambda developer guide, "Configure Lambda function memory": at 1,769 MB a function has the
    # equivalent of one vCPU; CPU is allocated in proportion to memory.
    assert lambda_duration_ms(10, 1769) == 10
    assert lambda_duration_ms(10, 3538) == 10  # the model: one thread gains nothing past a vCPU
    assert lambda_duration_ms(10, 256) == pytest.approx(10 * 1769 / 256)
    # So below 1,769 MB the GB-seconds of a CPU-bound batch do not depend on memory:
    assert lambda_gb_seconds(1, lambda_duration_ms(10, 256), 256) == pytest.approx(
        lambda_gb_seconds(1, lambda_duration_ms(10, 512), 512))
