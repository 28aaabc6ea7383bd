"""Consumer handler throughput and cold import time.

    .venv/bin/python -m bench.consumer_throughput [--repeats 5] [--json] [--local-sqs]
                                                  [--via-emulator]
                                                  [--figures [bench/figures.json]]

Records/s through the real Lambda handler (`build_handler`: Powertools logger and EMF metrics,
decode, schema validation, default `process`, the SQS dead-letter sink) for batches of
100 / 1,000 / 10,000 API events, with 10 % poison (the target: >= 50,000 records/s on one core)
and with none; and the handler module's import time in fresh interpreters (what a Lambda cold
start pays on import; target <= 100 ms).

Beside it, the handler's records/s over those of a bare decode-and-validate loop of the same
records (no poison), alternated in each repeat: a ratio that depends less on the machine than
the absolute figure.

By default the sink's SQS client answers in memory: the figure is the handler's CPU cost including
every step of the dead-letter write (letters built, JSON-encoded, split into SendMessageBatch
requests, sent from the sink's threads), without SQS's round trips, which are a property of the
network. `--local-sqs` sends them to the local SQS/S3 server (`local.aws`) instead: the
round-trip-bound figure. Log and metric output goes to /dev/null while timing. The machine is
shared: compare figures from one run.

`--via-emulator` adds, beside each in-process figure, the same batches sent to the consumer's
deployment package (built exactly as `pulumi up` builds it) in AWS's Lambda Runtime Interface
Emulator with Python 3.13 (local/lambda_runtime): the Invoke API's HTTP and JSON round trip and
the runtime's own work included, as the event source mapping pays them; and the package's cold
start (first invocation, init included) against a warm one.

`--figures` writes the milliseconds per invocation of each batch size (no poison; through the
emulator when `--via-emulator` is given, else in-process) into the figures file the cost
estimate reads (python -m tools.cost), which fits a fixed cost per invocation plus a cost per
record to them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dead_letter_format import decode_headers
from event_api.events import build_event, to_record
from event_consumer.handler import build_handler
from event_consumer.records import decode_event, iter_records
from event_consumer.sqs_sink import SqsDeadLetterSink
from kafka.consumer.fetcher import ConsumerRecord

from bench._common import REPO_ROOT, machine
from bench.figures import FIGURES_FILE, write_section
from local.aws import LocalAws
from local.aws.server import FAKE_CREDENTIALS
from local.esm import LocalLambdaContext, build_msk_event

BATCHES = (100, 1_000, 10_000)
POISON_SHARE = 0.1


def make_event(n: int, poison_share: float, rng: random.Random) -> dict:
    records = []
    for i in range(n):
        if rng.random() < poison_share:
            key, value, headers = None, b"\xfe" + rng.randbytes(60), []
        else:
            rec = to_record(build_event(f"user{i % 100}"))
            key, value, headers = rec.key, rec.value, rec.headers
        records.append(ConsumerRecord("events", i % 3, -1, i // 3, int(time.time() * 1000), 0,
                                      key, value, headers, None, 0, 0, 0))
    # Through JSON, as across the Lambda invoke boundary.
    return json.loads(json.dumps(
        build_msk_event(records, "arn:aws:kafka:local:0:cluster/bench/x", "127.0.0.1:9098")))


@contextmanager
def stdout_to_devnull():
    """Powertools writes logs and EMF to fd 1; keep it out of the measurement's terminal."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


class InMemorySqs:
    """What SendMessageBatch answers when every entry is stored; keeps nothing."""

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:  # noqa: N803
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def _empty(aws: Any, queue_url: str) -> None:
    """Each run starts from an empty queue, as a drained one in AWS: moto's SQS server walks the
    whole queue on every send (Queue.attributes -> approximate_number_of_messages), so letters
    left from earlier runs would time the server, not the handler (bench/RESULTS.md). The queue
    is made again under the same name (same URL: the function's variable stays right); PurgeQueue
    would do, but the server allows one a minute, as SQS does."""
    sqs = aws.client("sqs")
    sqs.delete_queue(QueueUrl=queue_url)
    again = aws.create_queue(queue_url.rstrip("/").rsplit("/", 1)[1])
    if again != queue_url:
        raise RuntimeError(f"the local queue came back as {again}, not {queue_url}")


def throughput(n: int, poison_share: float, repeats: int, store: dict | None,
               aws: Any = None) -> float:
    """`store`: the local SQS/S3 server's queue and bucket, or None for the in-memory client."""
    event = make_event(n, poison_share, random.Random(n))
    rates = []
    for r in range(repeats + 1):
        if store is None:
            sink = SqsDeadLetterSink("https://sqs.us-east-1.amazonaws.com/0/bench", "bench",
                                     sqs=InMemorySqs())
        else:
            sink = SqsDeadLetterSink(store["queue_url"], store["bucket"])
        handler = build_handler(sink=sink, report_failures=False)
        context = LocalLambdaContext("bench", "arn:aws:lambda:local:0:function:bench")
        with stdout_to_devnull():
            started = time.perf_counter()
            handler(event, context)  # the handler does not modify the event
            elapsed = time.perf_counter() - started
        if r:  # the first run warms caches (regex compile, boto3 clients, logger formatters)
            rates.append(n / elapsed)
        if store is not None:
            _empty(aws, store["queue_url"])
    return statistics.median(rates)


def _handler_seconds(event: dict) -> float:
    sink = SqsDeadLetterSink("https://sqs.us-east-1.amazonaws.com/0/bench", "bench",
                             sqs=InMemorySqs())
    handler = build_handler(sink=sink, report_failures=False)
    context = LocalLambdaContext("bench", "arn:aws:lambda:local:0:function:bench")
    with stdout_to_devnull():
        started = time.perf_counter()
        handler(event, context)
        return time.perf_counter() - started


def _bare_seconds(event: dict) -> float:
    started = time.perf_counter()
    for record in iter_records(event):
        decode_event(record)
        decode_headers(record.raw.get("headers"))
    return time.perf_counter() - started


def handler_over_bare(n: int, repeats: int) -> float:
    """Records/s through the full handler over records/s of a bare decode-and-validate loop of
    the same records (no poison), alternated in each repeat: the median of the paired ratios
    travels between machines better than records/s does."""
    event = make_event(n, 0.0, random.Random(n))
    ratios = []
    for r in range(repeats + 1):
        handler_s = _handler_seconds(event)
        bare_s = _bare_seconds(event)
        if r:  # the first pair warms both paths
            ratios.append(bare_s / handler_s)
    return statistics.median(ratios)


def cold_import_ms(repeats: int) -> tuple[float, float, bool]:
    code = (
        "import time, sys; t = time.perf_counter(); import event_consumer.handler; "
        "print((time.perf_counter() - t) * 1000, 'boto3' in sys.modules)"
    )
    samples, boto3_loaded = [], False
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                             text=True, check=True, timeout=60).stdout.split()
        samples.append(float(out[0]))
        boto3_loaded |= out[1] == "True"
    return statistics.median(samples), min(samples), boto3_loaded


def emulator_rates(batches: dict[tuple[int, float], dict], repeats: int, workdir: str,
                   aws: Any, results: dict) -> None:
    """Records/s of each batch through the emulated package; its cold start, in `results`."""
    from local.lambda_runtime import FunctionSpec, LambdaEmulator
    from testing.deployables import stack_deployables

    function = stack_deployables("dev").function("consumer")
    spec = FunctionSpec(
        function.resource_name, function.build(), function.handler,
        # The program's variables, but the dead letters go to the local SQS/S3 server.
        {**{k: v for k, v in function.environment.items() if not k.startswith("DEAD_LETTER")},
         "DEAD_LETTER_QUEUE_URL": aws.create_queue("bench-emulated-dlq"),
         "DEAD_LETTER_BUCKET": aws.create_bucket("bench-emulated-dl")},
        timeout_s=function.timeout_s, memory_mb=function.memory_mb)
    log = os.path.join(workdir, "emulator.log")
    small = make_event(10, 0.0, random.Random(1))
    with LambdaEmulator(spec, log, extra_env={"AWS_REGION": "us-east-1", **aws.client_env(),
                                              **FAKE_CREDENTIALS}) as emulator:
        started = time.perf_counter()
        emulator.invoke(small)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        emulator.invoke(small)
        warm = time.perf_counter() - started
        results["emulator_cold_start_ms"] = {"first_invoke": round(cold * 1000, 1),
                                             "warm_invoke": round(warm * 1000, 1)}
        for (n, share), event in batches.items():
            rates = []
            for r in range(repeats + 1):
                started = time.perf_counter()
                emulator.invoke(event)
                if r:
                    rates.append(n / (time.perf_counter() - started))
                _empty(aws, spec.environment["DEAD_LETTER_QUEUE_URL"])
            table = "emulator_records_per_s" + ("_no_poison" if share == 0 else "")
            results.setdefault(table, {})[str(n)] = round(statistics.median(rates))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.add_argument("--local-sqs", action="store_true",
                        help="dead letters to the local SQS/S3 server (default: answered in "
                             "memory, the handler's CPU cost alone)")
    parser.add_argument("--via-emulator", action="store_true",
                        help="also through the consumer's package in the Lambda emulator")
    parser.add_argument("--figures", nargs="?", const=str(FIGURES_FILE), metavar="PATH",
                        help="write ms per invocation for the cost estimate (default path: "
                             f"{FIGURES_FILE.relative_to(REPO_ROOT)})")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {"records_per_s": {}, "records_per_s_no_poison": {}}
    with contextlib.ExitStack() as stack:
        workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-consumer-"))
        aws = None
        if args.local_sqs or args.via_emulator:
            aws = stack.enter_context(LocalAws(Path(workdir) / "aws"))
            os.environ.update({**aws.client_env(), **FAKE_CREDENTIALS})
        store = None
        if args.local_sqs:
            store = {"queue_url": aws.create_queue("bench-dlq"),
                     "bucket": aws.create_bucket("bench-dl")}
        if not args.json:
            heading = f"records/s (median of {args.repeats})"
            print(f"{'batch':>7} {'poison':>7} {heading:>28}")
        for n in BATCHES:
            for share, table in ((0.0, "records_per_s_no_poison"), (POISON_SHARE, "records_per_s")):
                rate = throughput(n, share, args.repeats, store, aws)
                results[table][str(n)] = round(rate)
                if not args.json:
                    print(f"{n:>7} {share:>7.0%} {rate:>28,.0f}")
        # The handler over a bare decode-and-validate loop of the same records, in the same run:
        # a ratio that travels between machines better than records/s does.
        results["handler_over_bare"] = {}
        for n in BATCHES:
            ratio = handler_over_bare(n, max(args.repeats, 5))
            results["handler_over_bare"][str(n)] = round(ratio, 3)
            if not args.json:
                print(f"{n:>7} handler / bare decode-and-validate loop: {ratio:.2f}")
        if args.via_emulator:
            batches = {(n, share): make_event(n, share, random.Random(n))
                       for n in BATCHES for share in (0.0, POISON_SHARE)}
            emulator_rates(batches, args.repeats, workdir, aws, results)
            if not args.json:
                print("through the Lambda emulator (the dev stack's consumer package, "
                      "Python 3.13, Invoke API):")
                for (n, share) in batches:
                    table = "emulator_records_per_s" + ("_no_poison" if share == 0 else "")
                    print(f"{n:>7} {share:>7.0%} {results[table][str(n)]:>28,}")
                cold = results["emulator_cold_start_ms"]
                print(f"emulated package: first invocation (init included) "
                      f"{cold['first_invoke']} ms, a warm one {cold['warm_invoke']} ms "
                      f"(10 records)")
    if args.figures:
        table = ("emulator_records_per_s_no_poison" if args.via_emulator
                 else "records_per_s_no_poison")
        write_section(Path(args.figures), "consumer", {
            "via": ("Lambda emulator, Invoke API, Python 3.13" if args.via_emulator
                    else "in-process handler"),
            "repeats": args.repeats,
            "ms_per_invoke": {n: round(int(n) / rate * 1000, 3)
                              for n, rate in results[table].items()}})
    median, best, boto3_loaded = cold_import_ms(max(args.repeats, 7))
    results["cold_import_ms"] = {"median": round(median, 1), "best": round(best, 1)}
    if args.json:
        print(json.dumps(results | {"boto3_on_import": boto3_loaded,
                                    "dead_letters": "local-sqs" if args.local_sqs else "memory",
                                    "machine": machine()}))
    else:
        print(f"cold import of event_consumer.handler: median {median:.1f} ms, best {best:.1f} ms "
              f"(fresh interpreter each; boto3 imported: {boto3_loaded}); dead letters "
              f"{'to the local SQS/S3 server' if args.local_sqs else 'answered in memory'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
