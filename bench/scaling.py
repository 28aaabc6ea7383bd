"""Scaling figures (issue 26 point 4): how far one API worker, one task and one consumer
invocation go, and what the prod stack needs for 1k, 10k and 100k events/s.

    .venv/bin/python -m bench.scaling [--stack prod] [--measure-workers] [--seconds 5]

From bench/figures.json (python -m bench.ingest --cpu --figures; python -m
bench.consumer_throughput --via-emulator --figures): events/s per vCPU of an API worker, the
tasks the stack's scaling policies would run for each rate and the tasks its CPU needs, and the
consumer's records/s per concurrent invocation at the stack's batch size and memory, hence its
concurrency and provisioned pollers (each poller carries up to 5 concurrent invocations, and
"to maintain ordered processing within a partition, Lambda limits MaximumPollers to the number
of partitions in the topic": Lambda guide, "Apache Kafka event poller scaling modes"), hence
the partitions the topic needs. The stack's sizes come from its graph (tools/cost/graph.py).

--measure-workers also runs the API with 1 and with 2 workers in the same rounds on this
machine's cores (bench.ingest --compare . --compare-workers 2) and prints the efficiency
rate(2) / (2 x rate(1)).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys

from bench._common import REPO_ROOT, machine

RATES = (1_000, 10_000, 100_000)
INVOCATIONS_PER_POLLER = 5


def worker_efficiency(seconds: float, concurrency: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.ingest", "--json", "--seconds", str(seconds),
         "--concurrency", str(concurrency), "--workers", "1", "--compare", ".",
         "--compare-workers", "2"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=900).stdout
    report = json.loads(out.strip().splitlines()[-1])
    one = report["api"][str(concurrency)]["events_per_s"]
    two = report["before"][str(concurrency)]["events_per_s"]
    return {"concurrency": concurrency, "one_worker": one, "two_workers": two,
            "efficiency": round(two / (2 * one), 2) if one else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--measure-workers", action="store_true")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()

    from tools.cost.figures import load_figures
    from tools.cost.graph import read_stack
    from tools.cost.model import api_tasks, lambda_duration_ms

    figures, shape = load_figures(), read_stack(args.stack)
    per_vcpu = 1e6 / figures.api_cpu_us_per_event
    print(f"machine: {machine()}")
    print(f"API worker: {figures.api_cpu_us_per_event:g} CPU us/event at concurrency "
          f"{figures.api_cpu_concurrency} -> {per_vcpu:,.0f} events/s per vCPU "
          f"[{figures.api_measured}]")
    if args.measure_workers:
        result = worker_efficiency(args.seconds, args.concurrency)
        print(f"API on this machine, concurrency {result['concurrency']}: 1 worker "
              f"{result['one_worker']:,.0f} events/s, 2 workers {result['two_workers']:,.0f} "
              f"events/s, efficiency rate(2)/(2 x rate(1)) = {result['efficiency']}")
    print(f"stack {args.stack!r}: tasks of {shape.task_vcpu:g} vCPU, min {shape.min_tasks}, max "
          f"{shape.max_tasks}, CPU target {shape.cpu_target_percent:g} %, "
          f"{shape.requests_per_target_per_minute:g} requests/min per task target")
    batch = shape.batch_size
    memory = shape.consumer.memory_mb
    batch_ms = lambda_duration_ms(figures.consumer_ms(batch), memory)
    per_invocation = batch / (batch_ms / 1000)
    print(f"consumer: a batch of {batch} records takes {batch_ms:,.1f} ms at {memory} MB "
          f"-> {per_invocation:,.0f} records/s per concurrent invocation "
          f"[{figures.consumer_measured}]")
    print(f"{'events/s':>9} {'tasks (CPU)':>12} {'tasks (policies)':>17} {'runs':>5} "
          f"{'consumer concurrency':>21} {'pollers':>8}  (the topic has {shape.partitions} "
          "partitions: at most one in-flight batch each)")
    for rate in RATES:
        cpu_tasks = math.ceil(rate / (per_vcpu * shape.task_vcpu
                                      * shape.cpu_target_percent / 100))
        runs, wanted = api_tasks(shape, rate, figures.api_cpu_us_per_event)
        concurrency = math.ceil(rate / per_invocation)
        pollers = math.ceil(concurrency / INVOCATIONS_PER_POLLER)
        print(f"{rate:>9,} {cpu_tasks:>12,} {wanted:>17,} {runs:>5,} {concurrency:>21,} "
              f"{pollers:>8,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
