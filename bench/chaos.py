"""A chaos run against the local pipeline: `python -m bench.chaos --minutes 5 [--seed N]`.

It starts what `./dev pipeline` starts (bench/_chaos_pipeline.py), drives the API with a steady
load (bench/_http_load.py; every answer kept), and meanwhile injects, in a random order from
`--seed` (each kind once first, then at random), logged with timestamps (bench/_chaos_faults.py):
the broker SIGKILLed and restarted, an API worker SIGKILLed, the consumer's function killed in
the middle of a batch and restarted, the SQS/S3 server down for 10 s while poison records
arrive, the broker paused (SIGSTOP) longer than the producer's send timeout. After each fault it
waits (at most RECOVERY_BOUND_S) until the pipeline has recovered: a request sent after the part
came back was acknowledged and then finished by the handler; that time is the fault's recovery.

At the end it stops the load, waits until the mapping has committed the whole topic, reads the
dead-letter queue empty, and accounts for every acknowledged event (bench/_chaos_ledger.py):
processed by the handler (at least once; duplicates counted), dead-lettered with its payload,
or LOST; and for every poison record. Exit 0 only if the targets hold: nothing lost, every
poison record dead-lettered, every fault kind injected, each recovery within RECOVERY_BOUND_S.

Every process it starts dies with it, SIGKILL included (PR_SET_PDEATHSIG, local/processes.py).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench._chaos_faults import Fault, Faults
from bench._chaos_ledger import Accounting, account, dead_lettered_values, read_topic
from bench._chaos_letters import LetterCollector
from bench._chaos_pipeline import ChaosPipeline, start_pipeline, wait_for
from bench._common import machine
from bench._http_load import Target, run_load_sync
from local.pipeline import _end_offsets, _left
from local.processes import Interrupted, StopSignals

RECOVERY_BOUND_S = 30.0
DRAIN_BOUND_S = 180.0
GAP_S = (2.0, 6.0)  # a random pause before each fault


def log(message: str) -> None:
    stamp = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
    print(f"[chaos {stamp}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (reset, refused, timeout)
    retry_after: str | None
    event_id: str | None
    sent: float  # perf_counter()
    answered: float


class Load:
    """The steady load, in its own thread (it starts no process)."""

    def __init__(self, base_url: str, clients: int, pause_s: float) -> None:
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=run_load_sync, name="chaos-load", daemon=True,
            args=(Target.from_url(base_url), clients, 10**7, self._path),
            kwargs={"pause_s": pause_s, "stop": self._stop.is_set, "on_answer": self._keep})

    @staticmethod
    def _path(client: int, n: int) -> str:
        return f"/current_time?name=chaos{client}x{n % 50}"

    def _keep(self, status, headers, sent, answered) -> None:
        event_id = headers.get("x-event-id") if status == 200 else None
        self.answers.append(Answer(status, headers.get("retry-after"), event_id, sent, answered))

    def start(self) -> Load:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def recovery(fault: Fault, answers: list[Answer], first_done: dict[str, float]) -> float | None:
    """Seconds from the part's return until a request sent after it was acknowledged and the
    handler finished an event acknowledged after it; None if not (yet)."""
    after = [a for a in answers if a.status == 200 and a.sent >= fault.ended]
    done = [first_done[a.event_id] for a in after if a.event_id in first_done]
    if not after or not done:
        return None
    return max(min(a.answered for a in after), min(done)) - fault.ended


def _drain(p: ChaosPipeline) -> bool:
    ends = _end_offsets(p.broker, p.topic)
    log(f"draining: waiting until the mapping has committed {sum(ends.values())} records")
    if wait_for(lambda: not _left(ends, p.answers.committed), DRAIN_BOUND_S, 0.5):
        return True
    log(f"NOT drained in {DRAIN_BOUND_S:.0f} s: left {_left(ends, p.answers.committed)}; "
        f"mapping: {p.esm.error or p.esm.last_processing_result}")
    return False


def _run(args, p: ChaosPipeline, rng: random.Random) -> dict:
    collector = LetterCollector(p.aws.endpoint, p.queue_url).start()
    faults = Faults(p, collector, rng, log)
    done: list[Fault] = []
    load = Load(p.api.base_url, args.clients, args.pause).start()
    started = time.perf_counter()
    log(f"load: {args.clients} clients, {args.pause} s between a client's requests, "
        f"{args.minutes} min; seed {args.seed}")
    try:
        first_round = rng.sample(Faults.KINDS, len(Faults.KINDS))
        end = started + args.minutes * 60
        while first_round or time.perf_counter() < end:
            time.sleep(rng.uniform(*GAP_S))
            kind = first_round.pop(0) if first_round else rng.choice(Faults.KINDS)
            fault = faults.inject(kind)
            done.append(fault)
            wait_for(lambda f=fault: recovery(f, load.answers, p.answers.snapshot()[1])
                     is not None, RECOVERY_BOUND_S, 0.5)
            _, first_done = p.answers.snapshot()
            seconds = recovery(fault, load.answers, first_done)
            log(f"FAULT {kind}: " + (f"recovered {seconds:.1f} s after the part came back"
                                     if seconds is not None else
                                     f"NOT recovered within {RECOVERY_BOUND_S:.0f} s"))
        time.sleep(3.0)  # the last fault's aftermath under load
    finally:
        load.stop()
        faults.close()
    loaded_s = time.perf_counter() - started
    drained = _drain(p)
    collector.read_until_empty()
    collector.stop()
    counts, first_done = p.answers.snapshot()
    for fault in done:  # final figures, with everything the handler finished since
        fault.recovery_s = recovery(fault, load.answers, first_done)
    topic_log = read_topic(p.broker.plaintext_bootstrap, p.topic)
    acked = {a.event_id for a in load.answers if a.status == 200 and a.event_id}
    result = account(acked, faults.poison, counts, collector.letters, p.topic, topic_log)
    return _summary(args, started, loaded_s, done, load.answers, result, drained,
                    collector, topic_log, p)


def _summary(args, started, loaded_s, faults, answers, result: Accounting, drained,
             collector, topic_log, p) -> dict:
    statuses = Counter("no answer" if a.status is None else str(a.status) for a in answers)
    refusals = [a for a in answers if a.status == 503]
    letters_back = []
    for fault in (f for f in faults if f.poison):
        later = [x for x in collector.letters if x.received_at >= fault.ended]
        arrived = set(fault.poison) & set(dead_lettered_values(later, p.topic, topic_log))
        letters_back.append({"poison": len(fault.poison), "dead_lettered_after_return":
                             len(arrived)})
    kinds = Counter(f.kind for f in faults)
    targets = {
        "0 lost": not result.lost,
        "every poison record dead-lettered": result.poison_dead_lettered == result.poison_sent,
        "every fault kind injected": all(kinds[k] for k in Faults.KINDS),
        f"each recovery within {RECOVERY_BOUND_S:.0f} s": all(
            f.recovery_s is not None and f.recovery_s <= RECOVERY_BOUND_S for f in faults),
        "the topic drained": drained,
    }
    return {
        "seed": args.seed, "minutes": args.minutes, "load_seconds": round(loaded_s, 1),
        "clients": args.clients, "pause_s": args.pause, "machine": machine(),
        "faults": [{"kind": f.kind, "at_s": round(f.started - started, 1),
                    "part_back_after_s": round(f.ended - f.started, 1),
                    "recovery_s": None if f.recovery_s is None else round(f.recovery_s, 1),
                    "detail": f.detail} for f in faults],
        "answers": dict(statuses),
        "503": len(refusals), "503_with_retry_after": sum(bool(a.retry_after) for a in refusals),
        "retry_after_values": sorted({a.retry_after for a in refusals if a.retry_after}),
        "accounting": {**asdict(result), "lost": result.lost[:20], "lost_count": len(result.lost),
                       "letters": dict(result.letters)},
        "sqs_outages": letters_back,
        "targets": targets, "targets_met": all(targets.values()),
    }


def render(s: dict) -> str:
    a = s["accounting"]
    lines = [f"chaos run: seed {s['seed']}, {s['load_seconds']} s of load ({s['clients']} "
             f"clients, {s['pause_s']} s pause each), {s['machine']}",
             "faults (t = seconds since the load started; part back = the fault's own length; "
             "recovery = from then until a new request was acknowledged and handled):"]
    for f in s["faults"]:
        rec = "NOT recovered" if f["recovery_s"] is None else f"recovery {f['recovery_s']} s"
        lines.append(f"  t={f['at_s']:6.1f}  {f['kind']:34} part back {f['part_back_after_s']:5.1f}"
                     f" s, {rec}  ({f['detail']})")
    lines += [
        f"answers: {', '.join(f'{k}: {v}' for k, v in sorted(s['answers'].items()))}; "
        f"503s {s['503']}, with Retry-After {s['503_with_retry_after']} "
        f"(values {', '.join(s['retry_after_values']) or '-'})",
        f"acknowledged events {a['acknowledged']}: processed by the handler {a['processed']}, "
        f"dead-lettered with payload {a['dead_lettered']}, LOST {a['lost_count']}"
        + (f" (not even in the topic: {a['lost_not_in_topic']}; e.g. {a['lost'][:5]})"
           if a["lost_count"] else ""),
        f"duplicates: {a['duplicates']} events finished more than once "
        f"({a['extra_deliveries']} extra deliveries); {a['processed_and_dead_lettered']} both "
        "finished and in an on-failure record",
        f"poison records: {a['poison_sent']} written, {a['poison_dead_lettered']} dead-lettered "
        f"with payload; queue messages read: {a['letters']}",
    ]
    for outage in s["sqs_outages"]:
        lines.append(f"SQS/S3 outage: {outage['dead_lettered_after_return']} of "
                     f"{outage['poison']} poison records dead-lettered after the server "
                     "returned")
    lines.append("targets: " + "; ".join(f"{k}: {'yes' if v else 'NO'}"
                                         for k, v in s["targets"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0,
                        help="how long the load runs (default 5; every fault kind is injected "
                             "once even if that takes longer)")
    parser.add_argument("--seed", type=int, default=None, help="the faults' order and timing")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--pause", type=float, default=0.1,
                        help="seconds between a client's requests (default 0.1)")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the summary here")
    args = parser.parse_args(argv)
    if not 0 < args.minutes <= 120:
        parser.error(f"--minutes must be in (0, 120], got {args.minutes}")
    if not 1 <= args.clients <= 64:
        parser.error(f"--clients must be 1-64, got {args.clients}")
    if not 0 <= args.pause <= 10:
        parser.error(f"--pause must be 0-10 s, got {args.pause}")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(10**6)
    signals = StopSignals().install()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    pipeline = None
    summary = None
    try:
        pipeline = start_pipeline(work)
        summary = _run(args, pipeline, random.Random(args.seed))
    except Interrupted as interrupt:
        log(f"{interrupt}: stopping")
    except Exception as exc:  # noqa: BLE001 - one clear line; the pipeline is stopped below
        log(f"ERROR: {exc!r}")
    finally:
        signals.shutting_down()
        if pipeline is not None:
            pipeline.stop()
    if summary is None:
        return 1
    print(render(summary), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0 if summary["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
