"""Ingest benchmark: acknowledged /current_time events per second, p50/p99, and the ratio to
kafka-python's own producer writing the same events directly.

    .venv/bin/python -m bench.ingest [--seconds 10] [--concurrency 1 16 64] [--linger-ms 0]
                                     [--log-level INFO] [--json] [--profile DIR]
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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench._common import machine, percentile
from bench._http_load import LoadResult, Target, run_load

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

        os.environ.update(broker.client_env())  # it signs with the same credentials
        options = client_security_options("SASL_SSL", broker.region, str(broker.ca_file))
        self.producer = KafkaProducer(**producer_config(settings, options))
        self.topic = settings.topic
        load_topic_metadata(self.producer, self.topic, 10)

    def run(self, concurrency: int, seconds: float) -> LoadResult:
        from event_api.events import build_event, to_record

        result = LoadResult()
        lock = threading.Lock()
        deadline = time.perf_counter() + seconds

        def writer(worker_id: int) -> None:
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
    return {"events_per_s": round(result.rate, 1), "p50_ms": round(percentile(ms, 50), 2),
            "p99_ms": round(percentile(ms, 99), 2), "errors": result.failed}


def _row(concurrency: int, api: dict, direct: dict | None) -> str:
    line = (f"{concurrency:>5} | {api['events_per_s']:>9,.0f} {api['p50_ms']:>7.1f} "
            f"{api['p99_ms']:>7.1f} {api['errors']:>6}")
    if direct is None:
        return line + " |         -       -       -      - |     -"
    ratio = api["events_per_s"] / direct["events_per_s"] if direct["events_per_s"] else 0
    return (line + f" | {direct['events_per_s']:>9,.0f} {direct['p50_ms']:>7.1f} "
                   f"{direct['p99_ms']:>7.1f} {direct['errors']:>6} | {ratio:5.2f}")


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
    missing = [i for i in acked if seen[i] == 0]
    duplicated = [i for i in acked if seen[i] > 1]
    return {"acknowledged": len(acked), "distinct_acknowledged": len(set(acked)),
            "missing": len(missing), "duplicated": len(duplicated),
            "in_topic_not_acknowledged": sum(1 for i in seen if i not in set(acked)),
            "ok": not missing and not duplicated and len(set(acked)) == len(acked)}


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


def run_local(args) -> dict:
    from event_api.settings import load_settings

    from bench._profile import record, summarise
    from local.api_server import launch_api_server
    from local.kafka import LocalKafka

    load_before = os.getloadavg()
    with (tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp,
          LocalKafka(Path(tmp)) as broker):
        for topic in ("bench-api", "bench-direct"):
            broker.create_topic(topic, partitions=3)
        env = {**broker.client_env(), "KAFKA_SEND_TIMEOUT_MS": str(SEND_TIMEOUT_MS),
               "KAFKA_LINGER_MS": str(args.linger_ms), "LOG_LEVEL": args.log_level}
        server = launch_api_server(env, Path(tmp), topic="bench-api", workers=args.workers)
        direct = Direct(broker, load_settings({**env, "KAFKA_TOPIC": "bench-direct"}))
        target = Target("127.0.0.1", server.port, tls=False)
        acked: list[str] = []
        report: dict = {"api": {}, "direct": {}, "api_over_direct": {}}
        try:
            if not server.wait_ready(60):
                raise RuntimeError("the API never became ready:\n" + server.log_text()[-2000:])
            # Warm both paths: token, TLS session, metadata, worker imports.
            acked += asyncio.run(run_load(target, 4, 2.0, _path)).event_ids
            direct.run(4, 1.0)
            for concurrency in args.concurrency:
                profiling = []
                if args.profile and concurrency == max(args.concurrency):
                    Path(args.profile).mkdir(parents=True, exist_ok=True)
                    profiling = record(_worker_pids(server), args.seconds,
                                       Path(args.profile) / f"api-c{concurrency}")
                # LocalKafka exposes no pid; the broker JVM is its child process.
                workers, broker_pid = _worker_pids(server), broker._process.pid
                cpu = (_cpu_s(workers), _cpu_s([broker_pid]), _cpu_s([os.getpid()]))
                api = asyncio.run(run_load(target, concurrency, args.seconds, _path))
                api_cpu = (_cpu_s(workers) - cpu[0], _cpu_s([broker_pid]) - cpu[1],
                           _cpu_s([os.getpid()]) - cpu[2])
                for recorder in profiling:
                    recorder.wait(timeout=60)
                acked += api.event_ids
                cpu = (_cpu_s([broker_pid]), _cpu_s([os.getpid()]))
                ceiling = direct.run(concurrency, args.seconds)
                direct_cpu = (_cpu_s([broker_pid]) - cpu[0], _cpu_s([os.getpid()]) - cpu[1])
                key = str(concurrency)
                report["api"][key], report["direct"][key] = _stats(api), _stats(ceiling)
                # CPU per event, in microseconds: where the time goes, whatever else runs here.
                report["api"][key]["cpu_us_per_event"] = {
                    "api_workers": round(api_cpu[0] / max(api.ok, 1) * 1e6),
                    "broker": round(api_cpu[1] / max(api.ok, 1) * 1e6),
                    "load_generator": round(api_cpu[2] / max(api.ok, 1) * 1e6)}
                report["direct"][key]["cpu_us_per_event"] = {
                    "producer": round(direct_cpu[1] / max(ceiling.ok, 1) * 1e6),
                    "broker": round(direct_cpu[0] / max(ceiling.ok, 1) * 1e6)}
                report["api_over_direct"][key] = round(
                    api.rate / ceiling.rate if ceiling.rate else 0.0, 3)
                if not args.json:
                    print(_row(concurrency, report["api"][key], report["direct"][key]),
                          flush=True)
                    if args.cpu:
                        print(f"      CPU us/event  API {report['api'][key]['cpu_us_per_event']}"
                              f"  direct {report['direct'][key]['cpu_us_per_event']}")
        finally:
            direct.close()
            server.stop()
        report["exactly_once"] = _check_exactly_once(
            acked, _read_back(broker.plaintext_bootstrap, "bench-api"))
        if args.profile:
            report["profile"] = summarise(sorted(Path(args.profile).glob("api-c*.txt")))
    report["load_average"] = {"before": [round(x, 2) for x in load_before],
                              "after": [round(x, 2) for x in os.getloadavg()]}
    return report


def run_remote(args) -> dict:
    target = Target.from_url(args.url)
    asyncio.run(run_load(target, 4, 2.0, _path))  # warm: connections, the service's caches
    report: dict = {"api": {}, "direct": None, "api_over_direct": None, "url": args.url}
    for concurrency in args.concurrency:
        api = asyncio.run(run_load(target, concurrency, args.seconds, _path))
        report["api"][str(concurrency)] = _stats(api)
        if not args.json:
            print(_row(concurrency, report["api"][str(concurrency)], None), flush=True)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--url", help="drive this deployed endpoint instead of a local stack")
    parser.add_argument("--workers", type=int, default=2, help="local API worker processes")
    parser.add_argument("--linger-ms", type=int, default=0,
                        help="KAFKA_LINGER_MS for the API and the direct producer alike")
    parser.add_argument("--log-level", default="INFO", help="the API's LOG_LEVEL")
    parser.add_argument("--profile", metavar="DIR",
                        help="py-spy the API workers during the highest concurrency")
    parser.add_argument("--cpu", action="store_true",
                        help="also print CPU microseconds per event for each process")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    if not args.json:
        print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
        where = args.url or (f"local: {args.workers} API workers, broker on loopback, SASL_SSL "
                             f"+ MSK IAM, acks=all, linger {args.linger_ms} ms, "
                             f"LOG_LEVEL {args.log_level}")
        print(f"target: {where}; {args.seconds:g} s per run, closed loop")
        print(HEADER, flush=True)
    report = run_remote(args) if args.url else run_local(args)
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
