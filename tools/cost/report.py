"""The estimate as text: one line per billed item, the total, fixed cost and cost per million
events apart, and the three largest items."""

from __future__ import annotations

from dataclasses import replace

from tools.cost.figures import Figures
from tools.cost.graph import StackShape
from tools.cost.model import (
    SECONDS_PER_MONTH,
    Item,
    Load,
    api_tasks,
    estimate,
    lambda_duration_ms,
    total,
)
from tools.cost.prices import PriceTable


class Estimate:
    def __init__(self, shape: StackShape, prices: PriceTable, figures: Figures,
                 load: Load) -> None:
        self.shape, self.figures, self.load = shape, figures, load
        self.items = estimate(shape, prices, figures, load)
        # Fixed: what the stack costs with no events at all; the rest scales with events.
        self.fixed = total(estimate(shape, prices, figures, replace(load, events_per_s=0)))
        self.total = total(self.items)
        self.events_per_month = load.events_per_s * SECONDS_PER_MONTH
        self.tasks, self.tasks_needed = api_tasks(shape, load.events_per_s,
                                                  figures.api_cpu_us_per_event)

    @property
    def per_million(self) -> float | None:
        if not self.events_per_month:
            return None
        return (self.total - self.fixed) / (self.events_per_month / 1e6)

    @property
    def largest(self) -> list[Item]:
        priced = [i for i in self.items if i.cost is not None]
        return sorted(priced, key=lambda i: i.cost or 0, reverse=True)[:3]

    @property
    def unpriced(self) -> list[Item]:
        return [i for i in self.items if i.cost is None]


def capacity_notes(result: Estimate) -> list[str]:
    """What the scaling policies ask for beyond the stack's maximum, and whether the tasks it
    allows can carry the load at the measured CPU per event."""
    shape, notes = result.shape, []
    if result.tasks_needed > result.tasks:
        notes.append(f"the scaling policies want {result.tasks_needed} API tasks; the stack "
                     f"allows {shape.max_tasks} (apiMaxCount), so it runs {result.tasks}")
    ceiling = result.tasks * shape.task_vcpu * 1e6 / result.figures.api_cpu_us_per_event
    if result.load.events_per_s > ceiling:
        notes.append(f"{result.tasks} tasks of {shape.task_vcpu:g} vCPU serve at most "
                     f"{ceiling:,.0f} events/s at the measured CPU per event: the API saturates "
                     "below this rate")
    consumer = shape.consumer
    if consumer and result.load.events_per_s:
        # One in-flight batch per partition keeps each partition in order (Lambda guide,
        # "Apache Kafka event poller scaling modes"): the partitions bound the concurrency.
        batch_s = lambda_duration_ms(result.figures.consumer_ms(shape.batch_size),
                                     consumer.memory_mb) / 1000
        ceiling = shape.partitions * shape.batch_size / batch_s
        if result.load.events_per_s > ceiling:
            notes.append(f"the consumer reads at most {ceiling:,.0f} events/s ({shape.partitions}"
                         f" partitions, one batch of {shape.batch_size} each in flight, "
                         f"{batch_s * 1000:,.0f} ms a batch): it falls behind at this rate")
    return notes


def money(value: float) -> str:
    return f"${value:,.2f}"


def render(result: Estimate) -> str:
    shape, load = result.shape, result.load
    lines = [f"Monthly estimate for stack {shape.stack!r} ({shape.region}) at "
             f"{load.events_per_s:g} events/s ({result.events_per_month / 1e6:,.1f} M events a "
             f"month), {load.record_bytes}-byte records, 730 hours:",
             f"  {'item':<62} {'quantity':>14} {'unit':<26} {'per month':>11}"]
    for item in result.items:
        cost = "unpriced" if item.cost is None else money(item.cost)
        lines.append(f"  {item.name:<62} {item.quantity:>14,.2f} {item.unit:<26} {cost:>11}")
    per_million = result.per_million
    lines += [
        f"Total {money(result.total)} a month = fixed {money(result.fixed)} (no events) + "
        + (f"{money(per_million)} per million events" if per_million is not None
           else "nothing per event at 0 events/s"),
        "Largest: " + "; ".join(f"{n}. {i.name} {money(i.cost or 0)}"
                                for n, i in enumerate(result.largest, start=1)),
    ]
    lines += [f"Capacity: {note}" for note in capacity_notes(result)]
    if result.unpriced:
        lines.append("Not in the total (no rate in tools/cost/prices.csv): "
                     + "; ".join(f"{i.name}: {i.quantity:,.0f} {i.unit}"
                                 for i in result.unpriced))
    figures = result.figures
    lines += [
        f"Measured: API {figures.api_cpu_us_per_event:g} CPU us/event (concurrency "
        f"{figures.api_cpu_concurrency}) and {figures.api_log_bytes_per_event:g} log bytes/event "
        f"[{figures.api_measured}]; consumer {figures.consumer_fixed_ms:.2f} ms/invocation + "
        f"{figures.consumer_ms_per_record * 1000:.1f} us/record on one core "
        f"[{figures.consumer_measured}] (bench/figures.json).",
        f"Assumed: {load.http_bytes_per_event} HTTP bytes/event through the ALB, "
        f"{load.requests_per_connection} requests per client connection, "
        f"{load.retention_hours} h topic retention; free tiers left out. "
        "Prices: tools/cost/prices.csv (each row: source page, date read, how checked).",
    ]
    return "\n".join(lines)
