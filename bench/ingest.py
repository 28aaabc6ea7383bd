"""Ingest benchmark: acknowledged /current_time events per second, p50/p99, and the ratio to
kafka-python's own producer writing the same events directly.

    .venv/bin/python -m bench.ingest [--seconds 10] [--concurrency 1 16 64] [--linger-ms 0]
                                     [--log-level INFO] [--rounds N] [--compare CHECKOUT]
                                     [--compare-workers N] [--cpu] [--json] [--profile DIR]
                                     [--figures [bench/figures.json]]
                                     [--pin ROLE=CPUS ...] [--hog N]
    .venv/bin/python -m bench.ingest --url https://<your ALB> [--seconds 10] [--json]

Locally it runs a real broker (SASL_SSL + MSK IAM OAUTHBEARER), the API with its production
server (`python -m event_api`, WEB_CONCURRENCY workers, production log level: one access line
per request), and a closed-loop HTTP load generator. Beside it, in the same run, the direct path:
kafka-python's producer with the API's own producer settings (the same Settings object) writing
the same events, with the same number of concurrent writers each waiting for its own
acknowledgement. Afterwards it reads the API's topic back: every acknowledged event must be
there exactly once.

With --url it drives any deployed endpoint (e.g. the stack's ALB) with the same load shape and
prints the same table without the direct columns, so a deployment can be compared with the
local figures. --json prints one JSON object instead of the table.

On a shared machine absolute figures drift from minute to minute: --rounds alternates the paths
several times and reports the median round, and --compare runs a second API from another
checkout in the same rounds, so before/after ratios come from one run.

--pin and --hog make the sharing of the cores an experiment's variable (bench/_contention.py):
each role (broker, api, load, hog) on chosen CPUs, and N busy processes beside the run. --cpu
also prints the broker JVM's garbage collections per run, and the ratio API/direct falls to when
the cores bound both paths: the direct path's CPU per event over the API path's (each with the
broker's share; the API's with the load generator's, which only that path has).

--figures writes the API's CPU microseconds per event (per concurrency) and its log bytes per
event into the figures file the cost estimate reads (python -m tools.cost).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench._common import REPO_ROOT, machine, percentile
from bench._contention import Hogs, PinError, broker_gc, parse_pins, pin_thread, pin_tree
from bench._http_load import LoadResult, Target, run_load_sync
from bench.figures import FIGURES_FILE, write_section

SEND_TIMEOUT_MS = 5000


def _path(client_id: int, n: int) -> str:
    return f"/current_time?name=bench{client_id}x{n % 50}"


class Direct:
    """The ceiling: kafka-python's producer, configured exactly like the API's."""

    def __init__(self, broker, settings) -> None:
        from event_api.kafka_producer_config import producer_config
        from event_api.kafka_publisher import load_topic_metadata
        from kafka import KafkaProducer
        from msk_iam_client import client_security_options

        os.environ.update(broker.client_env("api"))  # it signs as the API does
        options = client_security_options("SASL_SSL", broker.region, str(broker.ca_file))
        self.producer = KafkaProducer(**producer_config(settings, options))
        self.topic = settings.topic
        load_topic_metadata(self.producer, self.topic, 10)
        self.cpus: set[int] | None = None  # where its threads run (--pin api=...)

    def pin(self, cpus: set[int]) -> None:
        """The direct path's threads with the API's: kafka-python's sender now, the writers
        as each starts."""
        self.cpus = cpus
        os.sched_setaffinity(self.producer._sender.native_id, cpus)

    def run(self, concurrency: int, seconds: float) -> LoadResult:
        from event_api.events import build_event, to_record

        result = LoadResult()
        lock = threading.Lock()
        deadline = time.perf_counter() + seconds

        def writer(worker_id: int) -> None:
            pin_thread(self.cpus)
            n = 0
            while time.perf_counter() < deadline:
                n += 1
                record = to_record(build_event(f"bench{worker_id}x{n % 50}"))
                started = time.perf_counter()
                try:
                    self.producer.send(self.topic, value=record.value, key=record.key,
                                       headers=record.headers).get(SEND_TIMEOUT_MS / 1000)
                except Exception:  # noqa: BLE001 - counted, the benchmark goes on
                    with lock:
                        result.errors += 1
                    continue
                with lock:
                    result.latencies_s.append(time.perf_counter() - started)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result.elapsed_s = time.perf_counter() - started
        return result

    def close(self) -> None:
        self.producer.close(timeout=10)


def _stats(result: LoadResult) -> dict:
    ms = [v * 1000 for v in result.latencies_s]
    p50, p99 = (round(percentile(ms, q), 2) for q in (50, 99)) if ms else (None, None)
    return {"events_per_s": round(result.rate, 1), "p50_ms": p50, "p99_ms": p99,
            "errors": result.failed}  # JSON has no NaN: no sample, no percentile


def _row(concurrency: int, api: dict, direct: dict | None) -> str:
    line = (f"{concurrency:>5} | {api['events_per_s']:>9,.0f} {_ms(api['p50_ms'])} "
            f"{_ms(api['p99_ms'])} {api['errors']:>6}")
    if direct is None:
        return line + " |         -       -       -      - |     -"
    ratio = api["events_per_s"] / direct["events_per_s"] if direct["events_per_s"] else 0
    return (line + f" | {direct['events_per_s']:>9,.0f} {_ms(direct['p50_ms'])} "
                   f"{_ms(direct['p99_ms'])} {direct['errors']:>6} | {ratio:5.2f}")


def _ms(value: float | None) -> str:
    return f"{value:>7.1f}" if value is not None else f"{'-':>7}"


HEADER = (" conc |  API ev/s  p50 ms  p99 ms errors |  direct/s  p50 ms  p99 ms errors "
          "| API/direct")


def _read_back(bootstrap: str, topic: str) -> Counter:
    """Every event id in the topic, counted (header `event_id`), read from the beginning."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             group_id=None, consumer_timeout_ms=2000)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        seen: Counter = Counter()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(
                consumer.position(tp) < end[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=1000, max_records=50_000).values():
                for message in batch:
                    seen[dict(message.headers).get("event_id", b"").decode()] += 1
        return seen
    finally:
        consumer.close()


def _check_exactly_once(acked: list[str], seen: Counter) -> dict:
    distinct = set(acked)
    missing = [i for i in distinct if seen[i] == 0]
    duplicated = [i for i in distinct if seen[i] > 1]
    return {"acknowledged": len(acked), "distinct_acknowledged": len(distinct),
            "missing": len(missing), "duplicated": len(duplicated),
            "in_topic_not_acknowledged": sum(1 for i in seen if i not in distinct),
            "ok": not missing and not duplicated and len(distinct) == len(acked)}


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds consumed so far by these processes (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _worker_pids(server) -> list[int]:
    pid = server.process.pid
    children = open(f"/proc/{pid}/task/{pid}/children").read().split()
    return [int(c) for c in children
            if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def _python_path(checkout: Path) -> str:
    return os.pathsep.join(str(checkout.resolve() / part) for part in (
        "services/api", "libs/event-contract", "libs/msk-iam-client", "libs/log-redaction"))


def _gc_spent(broker_pid: int, before: tuple[int, float] | None) -> dict | None:
    after = broker_gc(broker_pid)
    if before is None or after is None:
        return None
    return {"collections": after[0] - before[0], "pause_ms": round(after[1] - before[1], 1)}


def _measure_api(server, concurrency: int, seconds: float, broker_pid: int):
    workers = _worker_pids(server)
    gc_before = broker_gc(broker_pid)
    before = (_cpu_s(workers), _cpu_s([broker_pid]), _cpu_s([os.getpid()]))
    target = Target("127.0.0.1", server.port, tls=False)
    result = run_load_sync(target, concurrency, seconds, _path)
    spent = (_cpu_s(workers) - before[0], _cpu_s([broker_pid]) - before[1],
             _cpu_s([os.getpid()]) - before[2])
    per_event = [round(x / max(result.ok, 1) * 1e6) for x in spent]
    return (result, dict(zip(("api_workers", "broker", "load_generator"), per_event,
                             strict=True)), _gc_spent(broker_pid, gc_before))


def _measure_direct(direct: Direct, concurrency: int, seconds: float, broker_pid: int):
    gc_before = broker_gc(broker_pid)
    before = (_cpu_s([os.getpid()]), _cpu_s([broker_pid]))
    result = direct.run(concurrency, seconds)
    spent = (_cpu_s([os.getpid()]) - before[0], _cpu_s([broker_pid]) - before[1])
    per_event = [round(x / max(result.ok, 1) * 1e6) for x in spent]
    return (result, dict(zip(("producer", "broker"), per_event, strict=True)),
            _gc_spent(broker_pid, gc_before))


def _median(rounds: list[tuple[LoadResult, dict, dict | None]]) -> dict:
    """The median round by rate (its latencies, CPU and the broker's GC), errors summed over
    all rounds."""
    ordered = sorted(rounds, key=lambda r: r[0].rate)
    result, cpu, gc = ordered[len(ordered) // 2]
    return {**_stats(result), "errors": sum(r[0].failed for r in rounds),
            "cpu_us_per_event": cpu, "broker_gc": gc}


def _cpu_total(row: dict) -> float:
    """All the CPU one event costs on a path: its processes, the broker, the load generator."""
    return max(sum(row["cpu_us_per_event"].values()), 1)


def _pin(pins: dict[str, set[int]], broker_pid: int, servers: dict, direct: Direct) -> None:
    if "broker" in pins:
        pin_tree(broker_pid, pins["broker"])
    if "api" in pins:
        for server in servers.values():
            pin_tree(server.process.pid, pins["api"])
        direct.pin(pins["api"])
    pin_thread(pins.get("load"))  # this thread runs the load generator


def run_local(args) -> dict:
    from event_api.settings import load_settings

    from bench._profile import record, summarise
    from local.api_server import launch_api_server
    from local.kafka import LocalKafka

    load_before = os.getloadavg()
    with (tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp,
          LocalKafka(Path(tmp)) as broker,
          Hogs(args.hog, args.pins.get("hog"))):
        for topic in ("bench-api", "bench-direct", "bench-before"):
            broker.create_topic(topic, partitions=3)
        env = {**broker.client_env("api"), "KAFKA_SEND_TIMEOUT_MS": str(SEND_TIMEOUT_MS),
               "KAFKA_LINGER_MS": str(args.linger_ms), "LOG_LEVEL": args.log_level}
        direct = Direct(broker, load_settings({**env, "KAFKA_TOPIC": "bench-direct"}))
        servers = {"api": launch_api_server(env, Path(tmp), topic="bench-api",
                                            workers=args.workers)}
        if args.compare:  # another checkout's API, measured in the same rounds
            servers["before"] = launch_api_server(
                {**env, "PYTHONPATH": _python_path(Path(args.compare))}, Path(tmp),
                topic="bench-before", workers=args.compare_workers or args.workers)
        broker_pid = broker.pid  # the broker JVM: its CPU time and GC counters are read
        acked: list[str] = []
        report: dict = {name: {} for name in servers} | {"direct": {}, "api_over_direct": {}}
        try:
            for name, server in servers.items():
                if not server.wait_ready(60):
                    raise RuntimeError(f"{name} never became ready:\n{server.log_text()[-2000:]}")
                # Warm every path: token, TLS session, metadata, worker imports.
                target = Target("127.0.0.1", server.port, tls=False)
                ids = run_load_sync(target, 4, 2.0, _path).event_ids
                acked += ids if name == "api" else []
            direct.run(4, 1.0)
            _pin(args.pins, broker_pid, servers, direct)
            for concurrency in args.concurrency:
                key = str(concurrency)
                measured: dict[str, list] = {name: [] for name in [*servers, "direct"]}
                for round_number in range(args.rounds):
                    profiling = []
                    if (args.profile and concurrency == max(args.concurrency)
                            and round_number == 0):
                        Path(args.profile).mkdir(parents=True, exist_ok=True)
                        profiling = record(_worker_pids(servers["api"]), args.seconds,
                                           Path(args.profile) / f"api-c{concurrency}")
                    for name, server in servers.items():
                        result, cpu, gc = _measure_api(server, concurrency, args.seconds,
                                                       broker_pid)
                        measured[name].append((result, cpu, gc))
                        acked += result.event_ids if name == "api" else []
                        for recorder in profiling:
                            recorder.wait(timeout=60)
                        profiling = []
                    measured["direct"].append(
                        _measure_direct(direct, concurrency, args.seconds, broker_pid))
                for name, rounds in measured.items():
                    report[name][key] = _median(rounds)
                rate = report["direct"][key]["events_per_s"]
                for name in servers:
                    ratio = report[name][key]["events_per_s"] / rate if rate else 0.0
                    report[f"{name}_over_direct"] = report.get(f"{name}_over_direct", {})
                    report[f"{name}_over_direct"][key] = round(ratio, 3)
                    # What the ratio falls to when the cores, not latency, bound both paths.
                    report.setdefault(f"{name}_over_direct_if_cpu_bound", {})[key] = round(
                        _cpu_total(report["direct"][key]) / _cpu_total(report[name][key]), 3)
                    # Each round's own ratio (same round, same machine state): the spread.
                    report.setdefault(f"{name}_over_direct_rounds", {})[key] = [
                        round(api.rate / direct.rate, 3) if direct.rate else 0.0
                        for (api, *_), (direct, *_) in zip(measured[name], measured["direct"],
                                                           strict=True)]
                    report.setdefault(f"{name}_p99_ms_rounds", {})[key] = [
                        _stats(api)["p99_ms"] for api, *_ in measured[name]]
                if not args.json:
                    _print_rows(args, concurrency, report, servers)
        finally:
            direct.close()
            for server in servers.values():
                server.stop()
        report["exactly_once"] = _check_exactly_once(
            acked, _read_back(broker.plaintext_bootstrap, "bench-api"))
        # One access line per request at the production log level: what CloudWatch ingests.
        report["api_log_bytes_per_event"] = round(
            servers["api"].log_path.stat().st_size / max(len(acked), 1), 1)
        if args.profile:
            report["profile"] = summarise(sorted(Path(args.profile).glob("api-c*.txt")))
    report["contention"] = {"pin": {role: sorted(cpus) for role, cpus in args.pins.items()},
                            "hog": args.hog}
    report["load_average"] = {"before": [round(x, 2) for x in load_before],
                              "after": [round(x, 2) for x in os.getloadavg()]}
    return report


def _print_rows(args, concurrency: int, report: dict, servers: dict) -> None:
    key = str(concurrency)
    for name in servers:
        label = "" if name == "api" else (f" ({name}: {args.compare}, "
                                           f"{args.compare_workers or args.workers} workers)")
        print(_row(concurrency, report[name][key], report["direct"][key]) + label, flush=True)
        if args.cpu:
            print(f"      CPU us/event  {name} {report[name][key]['cpu_us_per_event']}"
                  f"  direct {report['direct'][key]['cpu_us_per_event']}")
            print(f"      CPU-bound ratio (direct's CPU/event over {name}'s): "
                  f"{report[f'{name}_over_direct_if_cpu_bound'][key]:.2f}")
            print(f"      broker GC  {name} {report[name][key]['broker_gc']}"
                  f"  direct {report['direct'][key]['broker_gc']}")
        ratios = report[f"{name}_over_direct_rounds"][key]
        if len(ratios) > 1:
            print(f"      rounds: {name}/direct {sorted(ratios)}, {name} p99 ms "
                  f"{sorted(report[f'{name}_p99_ms_rounds'][key])}")


def run_remote(args) -> dict:
    target = Target.from_url(args.url)
    run_load_sync(target, 4, 2.0, _path)  # warm: connections, the service's caches
    report: dict = {"api": {}, "direct": None, "api_over_direct": None, "url": args.url}
    for concurrency in args.concurrency:
        api = run_load_sync(target, concurrency, args.seconds, _path)
        report["api"][str(concurrency)] = _stats(api)
        if not args.json:
            print(_row(concurrency, report["api"][str(concurrency)], None), flush=True)
    return report


def _default_workers() -> int:
    from event_api.settings import VARIABLES

    return next(v.default for v in VARIABLES if v.name == "WEB_CONCURRENCY")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--url", help="drive this deployed endpoint instead of a local stack")
    parser.add_argument("--workers", type=int, default=_default_workers(),
                        help="local API worker processes (default: WEB_CONCURRENCY's default)")
    parser.add_argument("--linger-ms", type=int, default=0,
                        help="KAFKA_LINGER_MS for the API and the direct producer alike")
    parser.add_argument("--log-level", default="INFO", help="the API's LOG_LEVEL")
    parser.add_argument("--compare", metavar="CHECKOUT",
                        help="also run the API of another checkout (e.g. `git archive main`) "
                             "in the same rounds: before/after on a busy machine")
    parser.add_argument("--compare-workers", type=int, metavar="N",
                        help="worker processes of the --compare API (default: --workers), "
                             "e.g. `--compare . --compare-workers 2` measures 1 vs 2 workers")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate the paths this many times per concurrency; medians")
    parser.add_argument("--profile", metavar="DIR",
                        help="py-spy the API workers during the highest concurrency")
    parser.add_argument("--cpu", action="store_true",
                        help="also print CPU microseconds per event for each process")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--figures", nargs="?", const=str(FIGURES_FILE), metavar="PATH",
                        help="write the API's per-event figures for the cost estimate "
                             f"(default path: {FIGURES_FILE.relative_to(REPO_ROOT)})")
    parser.add_argument("--pin", nargs="+", metavar="ROLE=CPUS",
                        help="run a role on these CPUs: broker, api (the API and the direct "
                             "producer), load (the load generator), hog; e.g. broker=0 api=1")
    parser.add_argument("--hog", type=int, default=0, metavar="N",
                        help="run N busy-looping processes during the measurements")
    args = parser.parse_args()
    if args.figures and args.url:
        parser.error("--figures measures the local API; it cannot be used with --url")
    if args.url and (args.pin or args.hog):
        parser.error("--pin and --hog arrange the local processes; not with --url")
    if args.hog < 0:
        parser.error("--hog is a number of processes, 0 or more")
    try:
        args.pins = parse_pins(args.pin)
    except PinError as error:
        parser.error(str(error))
    if "hog" in args.pins and not args.hog:
        parser.error("--pin hog=... needs --hog N")

    if not args.json:
        print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
        where = args.url or (f"local: {args.workers} API workers, broker on loopback, SASL_SSL "
                             f"+ MSK IAM, acks=all, linger {args.linger_ms} ms, "
                             f"LOG_LEVEL {args.log_level}"
                             + "".join(f", {role} on CPU {','.join(map(str, sorted(cpus)))}"
                                       for role, cpus in args.pins.items())
                             + (f", {args.hog} busy processes" if args.hog else ""))
        print(f"target: {where}; {args.seconds:g} s per run, closed loop")
        print(HEADER, flush=True)
    report = run_remote(args) if args.url else run_local(args)
    if args.figures:
        write_section(Path(args.figures), "api", {
            "workers": args.workers, "seconds": args.seconds, "rounds": args.rounds,
            "concurrency": {key: {"events_per_s": row["events_per_s"],
                                  "cpu_us_per_event": row["cpu_us_per_event"]}
                            for key, row in report["api"].items()},
            "log_bytes_per_event": report["api_log_bytes_per_event"]})
    if args.json:
        print(json.dumps(report))
        return 0
    if "exactly_once" in report:
        check = report["exactly_once"]
        print(f"topic read back: {check['acknowledged']} acknowledged, {check['missing']} "
              f"missing, {check['duplicated']} duplicated -> "
              f"{'every acknowledged event exactly once' if check['ok'] else 'FAILED'}")
        print(f"load average before {report['load_average']['before']}, "
              f"after {report['load_average']['after']}")
    if report.get("profile"):
        print(report["profile"])
    ok = report.get("exactly_once", {}).get("ok", True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
