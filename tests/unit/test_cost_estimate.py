"""The estimate's arithmetic on a stack shape written out here (no Pulumi run): what is fixed,
what scales with events, the Spot share, capacity, and unpriced items."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tools.cost.figures import Figures, FiguresError, load_figures
from tools.cost.graph import LambdaShape, StackShape
from tools.cost.model import HOURS_PER_MONTH, SECONDS_PER_MONTH, Load, api_tasks, estimate, total
from tools.cost.prices import PRICES_FILE, PriceTable
from tools.cost.report import Estimate, render

SHAPE = StackShape(
    stack="example", region="us-east-1", load_balancers=1, load_balancer_azs=2,
    listener_rules=0, interface_endpoint_azs=(2,) * 6, task_vcpu=0.25, task_memory_gb=0.5,
    task_architecture="ARM64", desired_tasks=1, min_tasks=1, max_tasks=4, on_demand_base=1,
    on_demand_weight=1, spot_weight=3, cpu_target_percent=60, requests_per_target_per_minute=None,
    kafka_clusters=1, kafka_subnets=2, partitions=3,
    consumer=LambdaShape(memory_mb=256, timeout_s=60, architecture="arm64", subnets=2),
    provisioner=LambdaShape(memory_mb=256, timeout_s=120, architecture="arm64", subnets=2),
    batch_size=100, batching_window_s=1.0, provisioned_pollers=0,
    log_retention_days={"api": 3}, alarms=6, dashboards=1, kms_keys=2, queues=1)
FIGURES = Figures(api_cpu_us_per_event=600, api_cpu_concurrency="64", api_log_bytes_per_event=250,
                  consumer_fixed_ms=2, consumer_ms_per_record=0.03, api_measured="test",
                  consumer_measured="test")
PRICES = PriceTable.load()


def cost(items, prefix: str) -> float:
    (item,) = [i for i in items if i.name.startswith(prefix)]
    return item.cost


def test_fixed_plus_per_million_events_is_the_total():
    result = Estimate(SHAPE, PRICES, FIGURES, Load(100, 200))
    events = 100 * SECONDS_PER_MONTH
    assert result.fixed == pytest.approx(total(estimate(SHAPE, PRICES, FIGURES, Load(0, 200))))
    assert result.fixed + result.per_million * events / 1e6 == pytest.approx(result.total)
    assert 0 < result.fixed < result.total


def test_fixed_items_come_from_the_shape():
    items = estimate(SHAPE, PRICES, FIGURES, Load(0, 200))
    assert cost(items, "Interface endpoints") == pytest.approx(6 * 2 * HOURS_PER_MONTH * 0.01)
    three_azs = dataclasses.replace(SHAPE, interface_endpoint_azs=(3,) * 6)
    assert cost(estimate(three_azs, PRICES, FIGURES, Load(0, 200)),
                "Interface endpoints") == pytest.approx(6 * 3 * HOURS_PER_MONTH * 0.01)
    assert cost(items, "MSK Serverless cluster-hours") == pytest.approx(HOURS_PER_MONTH * 0.75)
    assert cost(items, "MSK partition-hours") == pytest.approx(3 * HOURS_PER_MONTH * 0.0015)
    assert cost(items, "KMS keys") == 2
    assert cost(items, "Lambda consumer requests") == 0
    # No events: the minimum task count, the base on demand (1 task, 0 on Spot).
    assert cost(items, "Fargate arm64 vCPU") == pytest.approx(0.25 * HOURS_PER_MONTH * 0.03238)


def test_spot_share_follows_the_capacity_provider_strategy():
    # Base 1 on FARGATE, then weights 1 : 3: of 5 tasks, 1 + 1 on demand and 3 on Spot.
    assert SHAPE.spot_tasks(5) == 3
    assert SHAPE.spot_tasks(1) == 0
    all_spot = dataclasses.replace(SHAPE, on_demand_base=0, on_demand_weight=0, spot_weight=1)
    assert all_spot.spot_tasks(2) == 2


def test_tasks_follow_the_scaling_target_within_min_and_max():
    # 600 us/event at a 60 % target of 0.25 vCPU: 250 events/s per task.
    assert api_tasks(SHAPE, 0, 600) == (1, 1)
    assert api_tasks(SHAPE, 500, 600) == (2, 2)
    assert api_tasks(SHAPE, 5000, 600) == (4, 20)  # capped by the maximum
    text = render(Estimate(SHAPE, PRICES, FIGURES, Load(5000, 200)))
    assert "want 20 API tasks; the stack allows 4 (apiMaxCount), so it runs 4" in text
    # 4 x 0.25 vCPU at 600 us/event: 1,667 events/s at most.
    assert "serve at most 1,667 events/s" in text
    assert "saturates" not in render(Estimate(SHAPE, PRICES, FIGURES, Load(1000, 200)))


def test_the_consumer_is_bounded_by_its_partitions():
    # A batch of 100 at 2 + 100 x 0.03 ms = 5 ms on a core, 1769/256 times longer at 256 MB:
    # 34.55 ms; 3 partitions x 100 records per 34.55 ms = 8,683 events/s at most.
    assert "consumer reads at most 8,683 events/s" in render(
        Estimate(SHAPE, PRICES, FIGURES, Load(10_000, 200)))
    assert "consumer reads" not in render(Estimate(SHAPE, PRICES, FIGURES, Load(8_000, 200)))


def test_the_consumer_batches_by_window_or_size():
    items = estimate(SHAPE, PRICES, FIGURES, Load(10, 200))
    # 10 events/s, a 1 s window: one invocation a second with 10 records.
    requests = [i for i in items if i.name == "Lambda consumer requests"][0]
    assert requests.quantity == pytest.approx(SECONDS_PER_MONTH)
    items = estimate(SHAPE, PRICES, FIGURES, Load(1000, 200))
    requests = [i for i in items if i.name == "Lambda consumer requests"][0]
    assert requests.quantity == pytest.approx(10 * SECONDS_PER_MONTH)  # full batches of 100


def test_provisioned_pollers_are_whole_epus_of_the_mappings_own():
    without = Estimate(SHAPE, PRICES, FIGURES, Load(10, 200))
    for pollers, epus in ((1, 1), (10, 1), (11, 2)):
        result = Estimate(dataclasses.replace(SHAPE, provisioned_pollers=pollers), PRICES,
                          FIGURES, Load(10, 200))
        line = cost(result.items, "Provisioned event pollers")
        assert line == pytest.approx(epus * HOURS_PER_MONTH * 0.185)
        assert result.fixed == pytest.approx(without.fixed + line)
        assert result.per_million == pytest.approx(without.per_million)


def test_an_item_without_a_rate_is_shown_but_not_added(tmp_path):
    # A row whose price was not found (status not-found, blank price) stays out of the total,
    # and the report says so rather than printing $0.
    rows = PRICES_FILE.read_text().splitlines(keepends=True)
    blanked = [line.replace(",0.185,", ",,").replace(",aws-page,", ",not-found,")
               if line.startswith("us-east-1,lambda-kafka-epu-hour,") else line for line in rows]
    (tmp_path / "prices.csv").write_text("".join(blanked))
    without_rate = PriceTable.load(tmp_path / "prices.csv")
    with_pollers = dataclasses.replace(SHAPE, provisioned_pollers=1)
    result = Estimate(with_pollers, without_rate, FIGURES, Load(10, 200))
    assert [i.name for i in result.unpriced] == [
        "Provisioned event pollers (1 minimum, 1 EPU)"]
    assert result.total == pytest.approx(Estimate(SHAPE, PRICES, FIGURES, Load(10, 200)).total)
    assert "Not in the total" in render(result)


def test_largest_three_and_the_lines_printed():
    result = Estimate(SHAPE, PRICES, FIGURES, Load(10, 200))
    assert [i.name for i in result.largest][:2] == ["MSK Serverless cluster-hours",
                                                    "Interface endpoints (6 x AZs)"]
    text = render(result)
    assert text.count("\n") >= len(result.items) + 3
    assert f"Total ${result.total:,.2f} a month" in text


def test_figures_are_fitted_from_the_benchmark_file(tmp_path):
    path = tmp_path / "figures.json"
    api = {"measured_at": "t", "machine": "m", "log_bytes_per_event": 240,
           "concurrency": {"1": {"cpu_us_per_event": {"api_workers": 2000}},
                           "64": {"cpu_us_per_event": {"api_workers": 900}},
                           "16": {"cpu_us_per_event": {"api_workers": 1100}}}}
    consumer = {"measured_at": "t", "machine": "m", "via": "emulator",
                "ms_per_invoke": {"100": 5.0, "1000": 32.0, "10000": 302.0}}
    path.write_text(json.dumps({"api": api, "consumer": consumer}))
    figures = load_figures(path)
    assert figures.api_cpu_us_per_event == 900 and figures.api_cpu_concurrency == "64"
    assert figures.consumer_ms_per_record == pytest.approx(0.03)
    assert figures.consumer_fixed_ms == pytest.approx(2.0)
    path.write_text(json.dumps({"api": api}))
    with pytest.raises(FiguresError, match="no 'consumer' figures: run `python -m bench"):
        load_figures(path)
    with pytest.raises(FiguresError, match="python -m bench.ingest --cpu --figures"):
        load_figures(tmp_path / "missing.json")
