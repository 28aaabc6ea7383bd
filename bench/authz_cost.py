"""What the broker's MSK IAM authorization costs the API: ingest rate with and without it.

    .venv/bin/python -m bench.authz_cost [--seconds 10] [--rounds 3] [--concurrency 64]

Two real local brokers run side by side, identical but for the authorizer (LocalKafka
`authorize=True`, the default, against `authorize=False`), each with its own API (`python -m
event_api`, 2 workers, signing as the `api` principal whose policy is the program's). The same
closed-loop load as bench/ingest.py (its request path and producer settings, bench/_http_load.py)
is run against each in turn, alternating ABBA so drift on the shared machine falls on both sides.
The cost is taken from each pair of back-to-back runs (with / without), whose ratio other load on
the shared cores disturbs least; the medians of all runs are printed too. Beside the rates, the CPU
time the broker and the API's processes spent per acknowledged event (from /proc), and the time
the authorizer itself spent deciding (its own counters, logged when the broker stops): other jobs
on the shared cores change how fast the runs go much more than how much work each event takes.
Target: authorization costs the API at most 5 % of its rate.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench._common import machine
from bench._http_load import Target, run_load_sync
from bench.ingest import SEND_TIMEOUT_MS, _path
from local.api_server import ApiServer, launch_api_server
from local.kafka import LocalKafka

TOPIC = "bench-authz"
TARGET_COST = 0.05
DECISION_LINE = re.compile(r" MSK IAM (ALLOW|DENY) ")
CLOSING_LINE = re.compile(r"MSK IAM authorizer closing: calls=(\d+) \S+ time_ms=([0-9.]+)")


def _start(stack: ExitStack, work: Path, authorize: bool, workers: int) -> tuple[LocalKafka,
                                                                                   ApiServer]:
    broker = stack.enter_context(LocalKafka(work / "kafka", authorize=authorize))
    broker.create_topic(TOPIC, partitions=3)
    # The API's own producer defaults (linger, batch size), the same on both sides.
    env = {**broker.client_env("api"), "KAFKA_SEND_TIMEOUT_MS": str(SEND_TIMEOUT_MS),
           "LOG_LEVEL": "WARNING"}
    server = launch_api_server(env, work, topic=TOPIC, workers=workers)
    stack.callback(server.stop)
    if not server.wait_ready(60):
        raise SystemExit(f"API (authorization {'on' if authorize else 'off'}) not ready: "
                         f"{server.log_text()[-2000:]}")
    return broker, server


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(c) for c in children]
    return found


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants (Linux /proc)."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _run(broker: LocalKafka, server: ApiServer, concurrency: int,
         seconds: float) -> tuple[float, int, float, float, int]:
    """(events/s, failed requests, broker CPU ms per event, API CPU ms per event, events)."""
    broker_pid, api_pid = broker.pid, server.process.pid
    broker_cpu, api_cpu = _cpu_s(broker_pid), _cpu_s(api_pid)
    load = run_load_sync(Target("127.0.0.1", server.port, tls=False), concurrency, seconds, _path)
    broker_cpu, api_cpu = _cpu_s(broker_pid) - broker_cpu, _cpu_s(api_pid) - api_cpu
    failed = load.errors + sum(n for code, n in load.statuses.items() if code != 200)
    events = max(load.ok, 1)
    return load.rate, failed, 1000 * broker_cpu / events, 1000 * api_cpu / events, load.ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each run")
    parser.add_argument("--rounds", type=int, default=3, help="ABBA rounds (2 runs per side each)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--warmup", type=float, default=10.0,
                        help="seconds of full load per side first (the brokers' JIT warms up)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-authz-") as tmp, ExitStack() as stack:
        sides = {"on": _start(stack, Path(tmp, "on"), True, args.workers),
                 "off": _start(stack, Path(tmp, "off"), False, args.workers)}
        on_broker = sides["on"][0]
        events_on = 0  # every event the authorizing broker took, warm-up included
        for side, (broker, server) in sides.items():  # tokens, TLS, metadata, imports, the JIT
            events = _run(broker, server, args.concurrency, args.warmup)[4]
            events_on += events if side == "on" else 0
        decisions_before = len(DECISION_LINE.findall(on_broker.log_file.read_text()))
        rates: dict[str, list[float]] = {"on": [], "off": []}
        cpu: dict[str, list[tuple[float, float]]] = {"on": [], "off": []}
        pair_ratios: list[float] = []  # with / without, for each back-to-back pair
        failures = 0
        print(f"machine: {machine()}")
        print(f"API: {args.workers} uvicorn workers, concurrency {args.concurrency}, "
              f"{args.seconds:.0f} s per run; brokers: Kafka KRaft on loopback, SASL_SSL + MSK IAM")
        for round_no in range(args.rounds):
            order = ("on", "off", "off", "on") if round_no % 2 == 0 else ("off", "on", "on", "off")
            pair: dict[str, float] = {}
            for side in order:
                rate, failed, broker_ms, api_ms, events = _run(*sides[side], args.concurrency,
                                                               args.seconds)
                events_on += events if side == "on" else 0
                rates[side].append(rate)
                cpu[side].append((broker_ms, api_ms))
                pair[side] = rate
                failures += failed
                print(f"  round {round_no + 1}  authorization {side:<3}  {rate:7.0f} events/s"
                      f"  CPU per event: broker {broker_ms:.3f} ms, API {api_ms:.3f} ms"
                      f"  errors {failed}", flush=True)
                if len(pair) == 2:
                    pair_ratios.append(pair["on"] / pair["off"])
                    pair = {}
        decisions = len(DECISION_LINE.findall(on_broker.log_file.read_text())) - decisions_before
        with_authz, without = statistics.median(rates["on"]), statistics.median(rates["off"])
        ratio = statistics.median(pair_ratios)
        cost = 1 - ratio
        print(f"median with authorization:    {with_authz:7.0f} events/s")
        print(f"median without authorization: {without:7.0f} events/s "
              f"(ratio of medians {with_authz / without:.3f})")
        print(f"back-to-back pairs with/without: "
              f"{' '.join(f'{r:.3f}' for r in pair_ratios)}")
        print(f"median pair ratio {ratio:.3f}: authorization costs {cost:+.1%} of the ingest rate "
              f"(target <= {TARGET_COST:.0%}: {'met' if cost <= TARGET_COST else 'NOT met'})")
        broker_on = statistics.median(b for b, _ in cpu["on"])
        broker_off = statistics.median(b for b, _ in cpu["off"])
        total_on = statistics.median(b + a for b, a in cpu["on"])
        total_off = statistics.median(b + a for b, a in cpu["off"])
        print(f"CPU per event (medians): broker {broker_on:.3f} ms with, {broker_off:.3f} ms "
              f"without; broker + API {total_on:.3f} ms with, {total_off:.3f} ms without")
        print(f"the authorizer's own work: {broker_on - broker_off:+.3f} ms of broker CPU per "
              f"event = {(broker_on - broker_off) / total_off:+.1%} of the pipeline's CPU per "
              f"event (the API is the same code on both sides)")
        print(f"authorization decisions computed during the measured runs: {decisions} "
              f"(the rest were cache hits); errors: {failures}")
        sides["on"][1].stop()
        on_broker.stop()  # the authorizer reports its counters when it closes
        closing = CLOSING_LINE.findall(on_broker.log_file.read_text())
        calls = sum(int(c) for c, _ in closing)
        spent_ms = sum(float(t) for _, t in closing)
        per_event_ms = spent_ms / max(events_on, 1)
        print(f"the authorizer's counters ({len(closing)} instances): {calls} calls for "
              f"{events_on} events ({calls / max(events_on, 1):.2f} per event), {spent_ms:.1f} ms "
              f"deciding = {1000 * per_event_ms:.2f} us per event = "
              f"{per_event_ms / total_off:.2%} of the pipeline's CPU per event")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
